"""Drawing a world: every distribution of a scenario replaced by a number (or a date), in a fixed order so
that the same random stream gives the same world; which events happen (an event's ``probability``) is
decided by the scenario itself (``Scenario.decide_events``), after its fields are drawn. What a
replication drew can be listed by key path.
"""
from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import numpy as np
from pydantic import BaseModel

from .distributions import Choice, DateChoice, Distribution
from .yamlfile import format_path

# what a scenario's leaves are: nothing inside them to draw (a walk checks these first; most of a scenario is leaves)
_LEAVES = frozenset({int, float, str, bool, type(None), dt.date})


@functools.cache
def _fields(model: type[BaseModel]) -> tuple[str, ...]:
    """A model's field names, in order: pydantic's ``model_fields`` costs more to read than a walk's step."""
    return tuple(model.model_fields)


def realise(obj: Any, rng: np.random.Generator | None) -> Any:
    """Replace every distribution inside ``obj`` by a number.

    With ``rng`` None each distribution gives its central value (a deterministic
    run of the 'expected' world); otherwise one draw each, in field order. A
    model with a ``decide_events(rng)`` method (the scenario) then decides which
    of its events happen; it draws nothing when no event has a ``probability``.
    """
    if type(obj) in _LEAVES:
        return obj
    if isinstance(obj, Distribution):
        return obj.central() if rng is None else obj.sample(rng)
    if isinstance(obj, BaseModel):
        updates = {}
        for name in _fields(type(obj)):
            value = getattr(obj, name)
            new = realise(value, rng)
            if new is not value:
                updates[name] = new
        out = obj.model_copy(update=updates) if updates else obj
        decide = getattr(type(out), "decide_events", None)
        return decide(out, rng) if decide is not None else out
    if isinstance(obj, dict):
        new_items = {k: realise(v, rng) for k, v in obj.items()}
        return obj if all(new_items[k] is obj[k] for k in obj) else new_items
    if isinstance(obj, (list, tuple)):
        new_seq = [realise(v, rng) for v in obj]
        return obj if all(a is b for a, b in zip(new_seq, obj)) else type(obj)(new_seq)
    return obj


def has_distributions(obj: Any) -> bool:
    """True when any number or date inside ``obj`` is a distribution, or an event has a probability:
    when draws can give different worlds."""
    if type(obj) in _LEAVES:
        return False
    if isinstance(obj, Distribution):
        return True
    if isinstance(obj, BaseModel):
        fields = _fields(type(obj))
        if "probability" in fields and obj.probability is not None:
            return True
        return any(has_distributions(getattr(obj, n)) for n in fields)
    if isinstance(obj, dict):
        return any(has_distributions(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(has_distributions(v) for v in obj)
    return False


def drawn_inputs(scenario: Any, world: Any) -> dict[str, Any]:
    """What a replication drew: {key path: value} for every distribution of ``scenario`` (dates as ISO
    text), and ``events.<id or number>.happened`` for every event with a probability or tied to one.

    ``world`` is ``realise(scenario, rng)``. Distributions inside events that did not happen are left
    out: they were drawn but acted on nothing. Empty for a scenario without uncertain input.
    """
    out: dict[str, Any] = {}
    if not has_distributions(scenario):
        return out
    _walk(scenario, world, (), out)
    index = getattr(world, "_drawn_from", None)
    kept = dict(zip(index if index is not None else range(len(world.events)), world.events))
    for i, event in enumerate(scenario.events):
        label = event.id or i
        if event.probability is not None or event.together_with is not None:
            out[format_path(("events", label, "happened"))] = i in kept
        if i in kept:
            _walk(event, kept[i], ("events", label), out)
    return out


def discrete_inputs(scenario: Any) -> list[str]:
    """The key paths (as ``drawn_inputs`` names them) of the scenario's discrete uncertain inputs: every
    ``choice`` of numbers or dates, and ``events.<id or number>.happened`` of every event with a
    ``probability`` (an event ``together_with`` another happens exactly when it does: not a draw of its
    own). An ensemble's outcome can split along these."""
    out: list[str] = []

    def walk(written: Any, path: tuple) -> None:
        if isinstance(written, (Choice, DateChoice)):
            out.append(format_path(path))
        elif isinstance(written, BaseModel) and not isinstance(written, Distribution):
            per_use = getattr(type(written), "drawn_per_use", frozenset())
            for name in type(written).model_fields:
                if not (path == () and name == "events") and name not in per_use:
                    walk(getattr(written, name), path + (name,))
        elif isinstance(written, dict):
            for key, value in written.items():
                walk(value, path + (key,))
        elif isinstance(written, (list, tuple)):
            for i, value in enumerate(written):
                walk(value, path + (i,))

    walk(scenario, ())
    for i, event in enumerate(getattr(scenario, "events", ())):
        label = event.id or i
        if event.probability is not None:
            out.append(format_path(("events", label, "happened")))
        walk(event, ("events", label))
    return out


def written_inputs(scenario: Any) -> dict[str, Any]:
    """The uncertain inputs of a scenario as written, under the key paths ``drawn_inputs`` lists their draws
    by: each distribution, and for ``events.<id or number>.happened`` the event's (probability,
    together_with). Two scenarios that write an input alike should draw it alike in a replication."""
    out: dict[str, Any] = {}
    if not has_distributions(scenario):
        return out
    _walk(scenario, scenario, (), out)
    for i, event in enumerate(scenario.events):
        label = event.id or i
        if event.probability is not None or event.together_with is not None:
            out[format_path(("events", label, "happened"))] = (event.probability, event.together_with)
        _walk(event, event, ("events", label), out)
    return out


def _walk(written: Any, drawn: Any, path: tuple, out: dict[str, Any]) -> None:
    """Each distribution of ``written`` (the scenario's events left out at the top) with what ``drawn`` holds
    in its place, by key path."""
    if type(written) in _LEAVES:
        return
    if isinstance(written, Distribution):
        out[format_path(path)] = drawn.isoformat() if isinstance(drawn, dt.date) else drawn
    elif isinstance(written, BaseModel):
        per_use = getattr(type(written), "drawn_per_use", frozenset())    # drawn afresh each use, not here
        for name in _fields(type(written)):
            if not (path == () and name == "events") and name not in per_use:
                _walk(getattr(written, name), getattr(drawn, name), path + (name,), out)
    elif isinstance(written, dict):
        for key, value in written.items():
            _walk(value, drawn[key], path + (key,), out)
    elif isinstance(written, (list, tuple)):
        for i, (a, b) in enumerate(zip(written, drawn)):
            _walk(a, b, path + (i,), out)
