"""Field types of the scenario's records: numbers, shares and dates that may be distributions, sources.

Units are in the field names (``capacity_t`` is t/yr, ``*_days`` calendar days,
shares fractions in [0, 1]). Any number may be a distribution and any date a
distribution over dates (``sim.scenario.distributions``); a field's bounds
travel with its distribution, so draws are clipped to them.
"""
from __future__ import annotations

import datetime as dt
import difflib
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, PlainValidator, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from .distributions import (
    DATE_DIST_KEYS,
    DATE_DIST_KINDS,
    DateDist,
    DateDistribution,
    Dist,
    Distribution,
)

_dist_adapter: TypeAdapter = TypeAdapter(Dist)


def _number(lower: float | None = None, upper: float | None = None, lower_open: bool = False):
    """A float field (or a distribution) within [lower, upper]; one clear message when not."""

    def check(value: Any) -> float | Distribution:
        if isinstance(value, Distribution):
            return value.with_bounds(lower, upper)
        if isinstance(value, dict):
            if "dist" not in value:
                keys = sorted(map(str, value))  # as text: keys of mixed types (true, a) do not sort
                raise ValueError(f"expected a number or a distribution with 'dist:' one of "
                                 f"normal, lognormal, triangular, uniform, choice; got a map with keys {keys}")
            try:
                dist = _dist_adapter.validate_python(value)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"][1:])
                raise ValueError(f"bad distribution{' (' + where + ')' if where else ''}: {first['msg']}") from None
            return dist.with_bounds(lower, upper)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r} ({type(value).__name__})")
        try:
            value = float(value)
        except OverflowError:  # a whole number of hundreds of digits
            raise ValueError(f"expected a number a float can hold (up to about 1.8e308), got one of "
                             f"{len(str(abs(value)))} digits") from None
        if value != value:
            raise ValueError("expected a number, got NaN")
        if lower is not None and (value < lower or (lower_open and value == lower)):
            raise ValueError(f"must be {'>' if lower_open else '≥'} {lower:g}, got {value:g}")
        if upper is not None and value > upper:
            raise ValueError(f"must be ≤ {upper:g}, got {value:g}")
        return value

    return Annotated[Union[float, Dist], PlainValidator(check)]


Number = _number()
NonNeg = _number(0.0)
Positive = _number(0.0, lower_open=True)
Share = _number(0.0, 1.0)


def at_least(lower: float):
    """A number field (or a distribution, its draws clipped) that must be ≥ ``lower``: for a field whose floor
    is a value the model holds elsewhere."""
    return _number(lower)

_plain_date_adapter: TypeAdapter = TypeAdapter(dt.date)
_date_dist_adapter: TypeAdapter = TypeAdapter(DateDist)
_DATE_FORMS = "normal (mean, sd_days), triangular (low, mode, high), uniform (low, high) or choice (values, p)"


def parse_date_dist(value: dict) -> DateDistribution:
    """A distribution of dates from its map (``{dist: uniform, low: 2028-01-01, high: 2029-06-30}``);
    ValueError with one clear message when it is not one."""
    if "dist" not in value:
        raise ValueError(f"expected a date written YYYY-MM-DD or a distribution of dates with 'dist:' one of "
                         f"{', '.join(DATE_DIST_KINDS)}; got a map with keys {sorted(map(str, value))}")
    kind = value["dist"]
    if kind not in DATE_DIST_KINDS:
        hint = "a date cannot be lognormal" if kind == "lognormal" else f"unknown date distribution {kind!r}"
        raise ValueError(f"{hint}; a date may be {_DATE_FORMS}")
    try:
        return _date_dist_adapter.validate_python(value)
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a misspelt key first
        loc = first["loc"][1:]
        where = ".".join(str(p) for p in loc)
        allowed = DATE_DIST_KEYS[kind]
        if first["type"] == "extra_forbidden":
            key = str(loc[-1])
            close = [k for k in allowed if k.startswith(key + "_")] or \
                difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            msg = f"unknown key {loc[-1]!r}{f' (did you mean {close[0]}?)' if close else ''}; a {kind} date " \
                  f"distribution takes {', '.join(allowed)}"
            where = ""
        elif first["type"] == "missing":
            msg = f"key {where!r} is missing; a {kind} date distribution takes {', '.join(allowed)}"
            where = ""
        elif first["type"].startswith("date") or (first["type"] == "value_error"
                                                   and "a date written" in first["msg"]):
            msg = f"expected a date written YYYY-MM-DD, got {first['input']!r}"
        else:
            msg = first["msg"].removeprefix("Value error, ")
        raise ValueError(f"bad date distribution{' (' + where + ')' if where else ''}: {msg}") from None


def _date(value: Any) -> dt.date | DateDistribution:
    """A date field: a plain date, parsed exactly as a ``datetime.date`` field would be, or a distribution of dates."""
    if isinstance(value, DateDistribution):
        return value
    if isinstance(value, dict):
        return parse_date_dist(value)
    try:
        return _plain_date_adapter.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PydanticCustomError(first["type"], first["msg"].replace("{", "{{").replace("}", "}}")) from None


Date = Annotated[Union[dt.date, DateDist], PlainValidator(_date)]


def _sources(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"expected a figure id of seeds/ or a publication with its year, or a list of them; "
                         f"got {value!r}")
    return tuple(v.strip() for v in value)


Sources = Annotated[tuple[str, ...], PlainValidator(_sources)]


class Record(BaseModel):
    """Base of every scenario record: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Sourced(Record):
    source: Sources = ()
    note: str | None = None
