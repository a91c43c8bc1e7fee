"""Checks that need a whole scenario: names that refer to other parts, sums, dates, sources.

They work on the plain merged data, defensively, so that they run even where
the shape is wrong and every problem of a file comes out together with the
schema's.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..errors import Problem, did_you_mean
from ..stages import MAGNET, MINE, REFINERY, STAGES, item_names
from .events import MEASURE_TYPES, NO_RARE_EARTH
from .fields import parse_date_dist
from .registry import Registry
from .schema import DEFAULT_ELEMENTS
from .yamlfile import KeyPath, YamlDocument, problem_at

SHARE_TOLERANCE = 1e-6
ITEM_KIND = {MINE: "mine item", REFINERY: "element", MAGNET: "magnet grade"}   # what a stage's items are called
CITING = ("source", "switching_source", "value_source")      # keys whose values are source ids


def check_references(doc: YamlDocument, registry: Registry | None) -> list[Problem]:
    """Every cross-reference problem of a merged scenario document."""
    return ReferenceChecker(doc, registry).run()


class ReferenceRules:
    """The names a merged scenario defines (countries, groups, elements, grades, sectors, facilities, its
    calendar), and the rules one value is checked by; problems are collected, never raised."""

    def __init__(self, doc: YamlDocument, registry: Registry | None):
        self.doc = doc
        self.data = doc.data
        self.registry = registry
        self.problems: list[Problem] = []
        d = self.data
        self.countries: dict[str, str] = {k: str(v.get("name") or "") if isinstance(v, dict) else ""
                                         for k, v in _map(d.get("countries")).items()}
        self.groups = _map(d.get("groups"))
        self.elements = d.get("elements") if isinstance(d.get("elements"), list) else list(DEFAULT_ELEMENTS)
        self.grades = list(_map(d.get("magnet_grades")))
        self.sectors = list(_map(d.get("sectors")))
        fac = _map(d.get("facilities"))
        self.facility_ids: dict[str, tuple[str, str]] = {}
        for stage in STAGES:
            for fid in _map(fac.get(stage)):
                if fid in self.facility_ids:
                    self.add(("facilities", stage, fid), f"facility id {fid!r} is also used in "
                             f"facilities.{self.facility_ids[fid][0]}; ids must be unique across stages")
                else:
                    self.facility_ids[fid] = (stage, fid)
        cal = _map(d.get("calendar"))
        self.start = _plain_day(cal.get("start"))
        self.end = _plain_day(cal.get("end"))

    def add(self, path: KeyPath, message: str) -> None:
        self.problems.append(problem_at(self.doc, path, message))

    # name checks -------------------------------------------------------
    def country(self, path: KeyPath, code: Any, allow_groups: bool = True, allow_all: bool = False) -> None:
        if not _is_name(code) or (allow_all and code == "all"):
            return
        known = list(self.countries) + (list(self.groups) if allow_groups else [])
        if code not in known:
            what = "country or group" if allow_groups else "country"
            hint = did_you_mean(code, known, self.countries)
            if not allow_groups and code in self.groups:
                hint = " (a group is not allowed here; name one country)"
            self.add(path, f"unknown {what} {code!r}{hint}")

    def each(self, path: KeyPath, value: Any, check, allow_all: bool = True) -> None:
        """Apply ``check(path, name)`` to every name of a list ('all' passes where allowed)."""
        if allow_all and value == "all":
            return
        if isinstance(value, list):
            for i, name in enumerate(value):
                check(path + (i,), name)

    def element(self, path: KeyPath, name: Any) -> None:
        if _is_name(name) and name not in self.elements:
            self.add(path, f"unknown element {name!r}{did_you_mean(name, self.elements)}; "
                     f"the scenario's elements are {', '.join(map(str, self.elements))}")

    def named(self, path: KeyPath, name: Any, known: list[str], what: str) -> None:
        if _is_name(name) and name not in known:
            self.add(path, f"unknown {what} {name!r}{did_you_mean(name, known)}"
                     + (f"; known: {', '.join(known)}" if known and len(known) <= 12 else ""))

    def sums_to_one(self, path: KeyPath, shares: Any, what: str) -> None:
        if not isinstance(shares, dict) or not shares:
            return
        values = list(shares.values())
        for key, value in shares.items():
            if isinstance(value, dict) and "dist" in value:
                self.add(path + (key,), f"{what} cannot be distributions: they must sum to 1 in every draw, and "
                                        "draws are not rescaled; write plain numbers (and sweep or vary a whole "
                                        "scenario for other mixes)")
                return
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return  # bad values: the shape check reports them
        total = sum(values)
        if abs(total - 1) > SHARE_TOLERANCE:
            self.add(path, f"{what} must sum to 1, got {total:.6g}")

    def date_in_horizon(self, path: KeyPath, value: Any) -> None:
        """A date inside the calendar; a distribution of dates wholly inside it, so that every draw is."""
        span = _date_range(value)
        if span is None or self.start is None or self.end is None:
            return
        if isinstance(value, dict):
            if span[0] < self.start or span[1] > self.end:
                self.add(path, f"date distribution ranges over {_span(span)}, beyond the scenario's calendar "
                               f"{self.start} .. {self.end}; every date it can draw must lie inside it")
        elif not self.start <= span[0] <= self.end:
            self.add(path, f"date {span[0]} is outside the scenario's calendar {self.start} .. {self.end}")

    def in_order(self, base: KeyPath, early: str, late: str, flag: str, record: dict) -> None:
        """Date ``early`` of a record not after its date ``late`` (the problem put at key ``flag``). With
        distributions, for every pair of draws: the latest ``early`` can be drawn is not after the earliest
        ``late`` can be, so that no replication draws them out of order."""
        a, b = _date_range(record.get(early)), _date_range(record.get(late))
        if a is None or b is None or a[1] <= b[0]:
            return
        if not isinstance(record[early], dict) and not isinstance(record[late], dict):
            message = f"{late} {b[0]} comes before {early} {a[0]}" if flag == late else \
                f"{early} {a[0]} comes after {late} {b[0]}"
        else:
            message = (f"{late} can be drawn before {early} ({late} {_span(b)}, {early} {_span(a)}); "
                       f"the ranges of the two dates must not cross")
        self.add(base + (flag,), message)



class ReferenceChecker(ReferenceRules):
    """Walks a merged scenario once, collecting every reference problem."""

    def run(self) -> list[Problem]:
        d = self.data
        self.check_calendar()
        for code in self.countries:
            if not re.fullmatch(r"[A-Z]{2,3}", str(code)):
                self.add(("countries", code), f"country code {code!r} must be 2–3 capital letters (ISO 3166, "
                         "or ROW for the rest of the world)")
        for name, group in self.groups.items():
            if name in self.countries:
                self.add(("groups", name), f"group {name!r} has the name of a country")
            members = group.get("members") if isinstance(group, dict) else None
            if isinstance(members, list):
                for i, code in enumerate(members):
                    self.country(("groups", name, "members", i), code, allow_groups=False)
        self.check_facilities()
        for gname, grade in _map(d.get("magnet_grades")).items():
            recipe = _map(grade.get("recipe") if isinstance(grade, dict) else None)
            for el in recipe:
                self.element(("magnet_grades", gname, "recipe", el), el)
            nums = [v for v in recipe.values() if isinstance(v, (int, float))]
            if nums and sum(nums) > 1 + SHARE_TOLERANCE:
                self.add(("magnet_grades", gname, "recipe"), f"rare-earth content exceeds the magnet's mass: "
                         f"shares sum to {sum(nums):.4g} > 1")
        for sname, sector in _map(d.get("sectors")).items():
            mix = _map(sector.get("grades") if isinstance(sector, dict) else None)
            for g in mix:
                self.named(("sectors", sname, "grades", g), g, self.grades, "magnet grade")
            self.sums_to_one(("sectors", sname, "grades"), mix, "grade shares")
        for code, per_sector in _map(d.get("demand")).items():
            self.country(("demand", code), code, allow_groups=False)
            for sname in _map(per_sector):
                self.named(("demand", code, sname), sname, self.sectors, "sector")
        for code, entry in _map(d.get("non_magnet_demand")).items():
            self.country(("non_magnet_demand", code), code, allow_groups=False)
            for el in _map(entry.get("t_per_year") if isinstance(entry, dict) else None):
                self.element(("non_magnet_demand", code, "t_per_year", el), el)
        self.check_trade()
        inv = _map(d.get("inventories"))
        for code in _map(inv.get("by_country")):
            self.country(("inventories", "by_country", code), code, allow_groups=False)
        for code, pile in _map(d.get("stockpiles")).items():
            self.country(("stockpiles", code), code, allow_groups=False)
            if isinstance(pile, dict):
                self.each(("stockpiles", code, "elements"), pile.get("elements"), self.element, allow_all=False)
                for el in _map(pile.get("t")):
                    self.element(("stockpiles", code, "t", el), el)
                for key in ("build_by", "build_from"):
                    self.date_in_horizon(("stockpiles", code, key), pile.get(key))
                self.in_order(("stockpiles", code), "build_from", "build_by", "build_from", pile)
        for code in _map(_map(d.get("rationing")).get("by_country")):
            self.country(("rationing", "by_country", code), code, allow_groups=False)
        prices = _map(d.get("prices"))
        for el in _map(prices.get("initial_usd_per_kg")):
            self.element(("prices", "initial_usd_per_kg", el), el)
        for el in _map(prices.get("other_uses_elasticity")):
            self.element(("prices", "other_uses_elasticity", el), el)
        for el in _map(_map(prices.get("long_run")).get("other_uses_elasticity")):
            self.element(("prices", "long_run", "other_uses_elasticity", el), el)
        if _map(d.get("prices")).get("home_market") is not None:
            self.country(("prices", "home_market"), d["prices"]["home_market"], allow_groups=False)
        self.check_events()
        self.check_sources()
        return self.problems

    def check_calendar(self) -> None:
        if self.start and self.end and self.end <= self.start:
            self.add(("calendar", "end"), f"end {self.end} must come after start {self.start}")
        elements = self.data.get("elements")
        if isinstance(elements, list):
            dupes = {e for e in elements if elements.count(e) > 1}
            if dupes:
                self.add(("elements",), f"elements listed twice: {', '.join(map(str, sorted(dupes, key=str)))}")

    def check_facilities(self) -> None:
        fac = _map(self.data.get("facilities"))
        for stage in STAGES:
            for fid, f in _map(fac.get(stage)).items():
                if not isinstance(f, dict):
                    continue
                base = ("facilities", stage, fid)
                if "country" in f:
                    self.country(base + ("country",), f["country"], allow_groups=False)
                if "price_element" in f:
                    self.element(base + ("price_element",), f["price_element"])
                self.in_order(base, "online", "closes", "closes", f)
                if stage == MINE:
                    comp = _map(f.get("composition"))
                    for el in comp:
                        self.element(base + ("composition", el), el)
                    self.sums_to_one(base + ("composition",), comp, "composition shares")
                if stage == REFINERY and isinstance(f.get("separates"), list):
                    self.each(base + ("separates",), f["separates"], self.element, allow_all=False)
                if stage == MAGNET and isinstance(f.get("grades"), list):
                    for i, g in enumerate(f["grades"]):
                        self.named(base + ("grades", i), g, self.grades, "magnet grade")

    def check_trade(self) -> None:
        trade = _map(self.data.get("trade"))
        for stage, buyers in _map(trade.get("suppliers")).items():
            for buyer, entry in _map(buyers).items():
                base = ("trade", "suppliers", stage, buyer)
                self.country(base, buyer, allow_groups=False)
                shares = _map(entry.get("shares") if isinstance(entry, dict) else None)
                for seller in shares:
                    self.country(base + ("shares", seller), seller, allow_groups=False)
                self.sums_to_one(base + ("shares",), shares, "supplier shares")
        for key in _map(trade.get("routes")):
            if isinstance(key, str) and key.count("-") == 1:
                for part in key.split("-"):
                    if part:
                        self.country(("trade", "routes", key), part)
        for stage, by_item in _map(trade.get("switching_days_by_item")).items():
            if stage in STAGES:      # an unknown stage is the shape check's to report
                known = list(item_names(stage, self.elements, self.grades))
                for item in _map(by_item):
                    self.named(("trade", "switching_days_by_item", stage, item), item, known, ITEM_KIND[stage])

    def check_events(self) -> None:
        events = self.data.get("events")
        if not isinstance(events, list):
            return
        ids: dict[str, int] = {}
        measure_ids = {e.get("id"): e for e in events
                       if isinstance(e, dict) and _is_name(e.get("id")) and e.get("type") in MEASURE_TYPES}
        for i, ev in enumerate(events):
            if not isinstance(ev, dict):
                continue
            base = ("events", i)
            if ev.get("id") is not None and _is_name(ev["id"]):
                if ev["id"] in ids:
                    self.add(base + ("id",), f"event id {ev['id']!r} is already used by events[{ids[ev['id']]}]")
                ids.setdefault(ev["id"], i)
            for key in ("start", "end", "date", "until", "announced"):
                self.date_in_horizon(base + (key,), ev.get(key))
            self.in_order(base, "start", "end", "end", ev)
            self.check_chance(base, ev, ids)
            if "exporter" in ev:
                self.country(base + ("exporter",), ev["exporter"])
            for key in ("importers", "countries"):
                if key in ev:
                    self.each(base + (key,), ev[key], self.country)
            for key in ("country", "buyer", "seller"):
                if key in ev:
                    self.country(base + (key,), ev[key], allow_groups=False)
            if ev.get("type") == "stockpile_release" and isinstance(ev.get("country"), str) \
                    and ev["country"] in self.countries:
                piles = _map(self.data.get("stockpiles"))
                if ev["country"] not in piles:
                    held = f"; countries with one: {', '.join(sorted(map(str, piles)))}" if piles else ""
                    self.add(base + ("country",), f"{ev['country']} has no stockpile to release (none under "
                                                  f"'stockpiles:'{held})")
            if "elements" in ev:
                self.each(base + ("elements",), ev["elements"], self.element)
            if "element" in ev:
                self.element(base + ("element",), ev["element"])
            if "facility" in ev:
                self.named(base + ("facility",), ev["facility"], list(self.facility_ids), "facility")
            if isinstance(ev.get("sectors"), list):
                for j, s in enumerate(ev["sectors"]):
                    self.named(base + ("sectors", j), s, self.sectors, "sector")
            for key in ("from_grade", "to_grade"):
                if key in ev and not (key == "to_grade" and ev[key] == NO_RARE_EARTH):
                    self.named(base + (key,), ev[key], self.grades, "magnet grade")
            self.in_order(base, "announced", "start", "announced", ev)
            if ev.get("type") == "suspension" and "measure" in ev:
                self.named(base + ("measure",), ev["measure"], [k for k in measure_ids if k], "measure id")
                self.in_order(base, "start", "until", "until", ev)
            if isinstance(ev.get("approval"), dict) and "dist" not in ev["approval"]:
                self.check_odds(base + ("approval",), ev["approval"])

    def check_odds(self, base: KeyPath, odds: dict) -> None:
        """Approval odds by importer name countries or groups; their changes lie in the calendar, in date
        order (for every draw of their dates)."""
        changes = odds.get("changes") if isinstance(odds.get("changes"), list) else []
        for path, entry in [(base, odds), *((base + ("changes", i), c) for i, c in enumerate(changes))]:
            for code in _map(entry.get("by_importer") if isinstance(entry, dict) else None):
                self.country(path + ("by_importer", code), code)
        earlier = None
        for i, change in enumerate(changes):
            day = change.get("date") if isinstance(change, dict) else None
            self.date_in_horizon(base + ("changes", i, "date"), day)
            span = _date_range(day)
            if span is not None and earlier is not None and span[0] < earlier[1]:
                self.add(base + ("changes", i, "date"),
                         f"change dated {_span(span)} comes before the change above it ({_span(earlier)}); "
                         "changes must be in date order, for every draw of their dates")
            earlier = span or earlier

    def check_chance(self, base: KeyPath, ev: dict, earlier_ids: dict[str, int]) -> None:
        """``together_with`` names an earlier event (so its outcome is known), and not with a probability."""
        other = ev.get("together_with")
        if other is None or not _is_name(other):
            return
        if ev.get("probability") is not None:
            self.add(base + ("together_with",), "give an event a probability or together_with, not both")
        elif other == ev.get("id") or other not in earlier_ids:
            later = [i for i, e in enumerate(self.data["events"]) if isinstance(e, dict) and e.get("id") == other]
            known = list(earlier_ids)
            self.add(base + ("together_with",),
                     f"together_with {other!r} must name an earlier event's id"
                     + (f"; it names events[{later[0]}], which is not earlier" if later else did_you_mean(other, known))
                     + (f"; earlier ids: {', '.join(known)}" if known and len(known) <= 12 and not later else ""))

    def check_sources(self) -> None:
        if self.registry is None:
            return
        for path, value in _walk(self.data, ()):
            if path and path[-1] in CITING or (len(path) >= 2 and path[-2] in CITING):
                if isinstance(value, str) and not self.registry.is_citation(value):
                    self.add(path, f"source {value!r} is neither a figure id in {self.registry.root}/figures.yaml "
                             f"nor a publication with its year{did_you_mean(value, self.registry.figures)}")


def _plain_day(value: Any) -> dt.date | None:
    """A written date (a datetime at midnight counts), else None."""
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else None
    return value if isinstance(value, dt.date) else None


def _date_range(value: Any) -> tuple[dt.date, dt.date] | None:
    """The earliest and latest day a date field can take: a plain date's own, a date distribution's range;
    None for anything else (the shape check reports it)."""
    day = _plain_day(value)
    if day is not None:
        return day, day
    if isinstance(value, dict) and "dist" in value:
        try:
            return parse_date_dist(value).support()
        except (ValueError, TypeError, OverflowError):
            return None
    return None


def _span(span: tuple[dt.date, dt.date]) -> str:
    return str(span[0]) if span[0] == span[1] else f"{span[0]} .. {span[1]}"


def _is_name(value: Any) -> bool:
    """A value that can name something; other shapes are left to the shape check to report."""
    return isinstance(value, (str, int, float, bool)) or value is None


def _map(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _walk(value: Any, path: KeyPath):
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, path + (i,))
