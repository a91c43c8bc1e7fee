"""SimPy processes, named by what they do: ship, license, enforce, qualify, step.

Each is a generator taking the environment and the simulation it acts on; none
keeps state of its own. The per-step work over all countries is one process
(``step``) doing NumPy arithmetic; dated and delayed things (shipments at sea,
licence decisions, measures coming into force, new suppliers qualifying) are
processes of their own, so SimPy orders them in time.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

if TYPE_CHECKING:  # pragma: no cover
    from .measures import ExportLicence, ExportMeasure
    from .simulation import Shipment, Simulation

# Events at the same time run before the step's work: the step is scheduled with a lower priority.
STEP_PRIORITY = 2


def _after(env: simpy.Environment, delay: float) -> simpy.events.Event:
    """A timeout that fires after every ordinary event due at the same time."""
    event = env.event()
    event._ok = True
    event._value = None
    env.schedule(event, STEP_PRIORITY, delay)
    return event


def step(env: simpy.Environment, sim: "Simulation"):
    """Advance the chain one model step at a time, from the spin-up to the calendar's end."""
    while sim.next_step():
        yield _after(env, sim.step_days)


def ship(env: simpy.Environment, sim: "Simulation", shipment: "Shipment", days: float) -> None:
    """Carry a shipment for its route's lead time, then put it in the buyers' stocks. One timeout event
    with a callback, not a process of its own: a run sends thousands and a process costs three events."""
    sim.in_flight[shipment] = None
    env.timeout(days).callbacks.append(lambda _: sim.arrive(shipment))


def license(env: simpy.Environment, sim: "Simulation", shipment: "Shipment", measure: "ExportLicence"):
    """Hold an export until the licence decision: ship it if approved, return it to stock if refused."""
    yield env.timeout(measure.processing_days(sim.licence_rng))
    approved = sim.licence_rng.random() < measure.approval
    sim.decide_licence(shipment, approved, measure)


def enforce(env: simpy.Environment, sim: "Simulation", measure: "ExportMeasure"):
    """Announce, put in force, suspend and lift a measure on its dates."""
    for day in measure.turning_points():
        at = sim.day_of(day)
        if at > env.now:
            yield env.timeout(at - env.now)
        sim.set_active(measure, measure.in_force(day), measure.front_loading(day))


def on(env: simpy.Environment, sim: "Simulation", date, action, *args):
    """Do ``action(*args)`` on a date (offtake agreements signed, ...)."""
    at = sim.day_of(date)
    if at > env.now:
        yield env.timeout(at - env.now)
    action(*args)


def qualify(env: simpy.Environment, sim: "Simulation", stage: str, buyer: int):
    """After the stage's switching delay a buyer may buy from any supplier, not only its usual ones."""
    yield env.timeout(sim.net.switching_days[stage])
    sim.qualified[stage][buyer, :] = True
