"""The SimPy side of the model, named by what it does: step, enforce, qualify, and act on a date.

Each takes the environment and the simulation it acts on, and acts through the
simulation's public methods; none keeps state of its own. The weekly work over
all countries is one process (``step``) doing compiled arithmetic; dated and
delayed things (measures coming into force, new suppliers qualifying,
agreements signed) are events of their own, so SimPy orders them in time.
Goods at sea and licence decisions are calendars (``transit.AtSea``,
``licensing.Reviews``), not events: a run sends thousands and decides tens of
thousands. Each event of the clock first has what those calendars hold done
up to it, as SimPy would have: by time and, at one time, in the order they
were set going. A decision lands the goods due before it first; so do a step
and a measure's date.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np
import simpy

from ..world import Network

if TYPE_CHECKING:  # pragma: no cover
    from .measures import ExportMeasure


class Model(Protocol):
    """What the processes ask of the simulation they drive: its public interface."""

    step_days: float
    net: Network
    licence_rng: np.random.Generator

    def next_step(self) -> bool:
        """Do the work of the step under way; False when the calendar is done."""

    def day_of(self, date: dt.date) -> float:
        """Simulation time of a date."""

    def sailed(self) -> int:
        """Voyages put to sea so far."""

    def reviews_started(self) -> int:
        """Licence reviews started so far."""

    def arrivals(self, sailed: int) -> None:
        """Land the goods at sea due before now, or now by a voyage before number ``sailed``."""

    def decisions(self, started: int) -> None:
        """Make the licence decisions due before now, or now by a review before number ``started``."""

    def put_in_force(self, measure: ExportMeasure, active: bool, front_loading: bool = False) -> None:
        """A measure's date has come."""

    def qualified(self, stage: str, buyer: int, items: np.ndarray) -> None:
        """A buyer's switching delay for some items is over."""


def step(env: simpy.Environment, simulation: Model):
    """Advance the chain one model step at a time, from the spin-up to the calendar's end. A step waits for
    every other event due at its time (decisions, measures coming into force), and lands every arrival due by
    then, so it sees the world they leave."""
    while True:
        simulation.decisions(simulation.reviews_started())
        simulation.arrivals(simulation.sailed())
        if not simulation.next_step():
            return
        yield env.timeout(simulation.step_days)
        while env.peek() == env.now:
            yield env.timeout(0)


def wait(env: simpy.Environment, simulation: Model, days: float):
    """Wait ``days``, then make the decisions and land the goods SimPy would have made and delivered first: those
    due before then, and at then those started or put to sea before the wait began (events at one time come in
    the order they were set)."""
    sailed = simulation.sailed()
    yield from after(env, simulation, days)
    simulation.arrivals(sailed)


def after(env: simpy.Environment, simulation: Model, days: float):
    """Wait ``days``, then make the licence decisions SimPy would have made first: those due before then, and at
    then those of the reviews started before the wait began."""
    started = simulation.reviews_started()
    yield env.timeout(days)
    simulation.decisions(started)


def enforce(env: simpy.Environment, simulation: Model, measure: ExportMeasure):
    """Announce, put in force, suspend and lift a measure on its dates."""
    for day in measure.turning_points():
        at = simulation.day_of(day)
        if at > env.now:
            yield from wait(env, simulation, at - env.now)
        simulation.put_in_force(measure, measure.in_force(day), measure.front_loading(day))


def on(env: simpy.Environment, simulation: Model, date: dt.date, action: Callable, *args):
    """Do ``action(*args)`` on a date (offtake agreements signed, ...)."""
    at = simulation.day_of(date)
    if at > env.now:
        yield from after(env, simulation, at - env.now)
    action(*args)


def qualify(env: simpy.Environment, simulation: Model, stage: str, buyer: int, group: int):
    """After the switching delay of a group of items (``net.switching_groups[stage][group]``) a buyer may buy
    them from any supplier, not only its usual ones."""
    days, items = simulation.net.switching_groups[stage][group]
    yield from after(env, simulation, days)
    simulation.qualified(stage, buyer, items)
