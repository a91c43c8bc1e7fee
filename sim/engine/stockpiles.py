"""Strategic stockpiles of oxides: bought up to a date, released when industry's cover falls below their
trigger (or when an event says so), filled at the calendar's start. Sized in days of the country's own
oxide use, in days of the element content of its end users' magnet demand, or in t of each oxide; their
release rules and release events count days of the same (own oxide use for a stockpile given in t, unless
it says end use).
"""
from __future__ import annotations

import functools

import numpy as np

from ..kernels import stockpiles as kernel
from ..kernels.stockpiles import cover_days
from ..stages import REFINERY
from ..world import Network
from ..world.provenance import shares
from .state import State

DAYS_PER_MONTH = 365.25 / 12


def _cover(state: State) -> tuple[np.ndarray, np.ndarray]:
    """Each country's own oxide use [C, E] t/day and the days its working stock covers (inf without use)."""
    use = state.use_own[REFINERY]
    # a use that stopped decays geometrically (a 4-week average) and after some 45 years of nothing reaches
    # the subnormals, where stock / use exceeds the largest float: those days of cover are infinite, as
    # they are without use, and not an overflow
    return use, cover_days(state.oxide.mass, use)


def _per_day(use: np.ndarray, net: Network, day: int) -> np.ndarray:
    """[C, E] t/day a day of each stockpile counts: the country's own oxide use ``use``, or where the
    stockpile says end use, the element content of its end users' magnet demand."""
    if not np.count_nonzero(net.stockpile_end_use):     # a count, not .any(): cheaper on a few countries
        return use
    return np.where(net.stockpile_end_use[:, None], net.end_use_content(day), use)


def _size(days: np.ndarray, use: np.ndarray, net: Network, day: int, in_t: np.ndarray) -> np.ndarray:
    """[C, E] t each stockpile is to hold: ``days`` [C] of what its days count, or its t where ``in_t``."""
    sized = days[:, None] * _per_day(use, net, day) * net.stockpile_elements
    if not np.count_nonzero(in_t):
        return sized
    return np.where(in_t[:, None], net.stockpile_t, sized)


def purchases(state: State, net: Network, day: int) -> np.ndarray:
    """Oxides stockpiles buy this step [C, E]: from their first buying date, an even share of what is
    missing to reach their size by their build date; nothing once built, or while industry's cover is
    below the release trigger."""
    if not kernel.building(net.stockpile_build_step, net.stockpile_build_from, state.k):
        return nothing_bought(state.oxide.mass.shape)
    steps_left = net.stockpile_build_step - state.k
    building = (state.k >= net.stockpile_build_from) & (steps_left > 0)
    use, cover = _cover(state)
    target = _size(net.stockpile_days, use, net, day, net.stockpile_in_t)
    gap = np.maximum(0.0, target - state.pile.mass)
    calm = (cover >= net.release_below_days[:, None]) | np.isinf(net.release_below_days)[:, None]
    return np.where(building[:, None] & calm, gap / np.maximum(steps_left, 1)[:, None], 0.0)


@functools.cache
def nothing_bought(shape: tuple[int, int]) -> np.ndarray:
    """[C, E] zeros: ``purchases`` of stockpiles that are not building, most steps of most runs (one array for
    every step: the kernels that take what stockpiles buy only read it)."""
    return np.zeros(shape)


def release(state: State, net: Network, day: int) -> None:
    """Stockpiles release into industry's stock when its cover falls below their trigger, or when an event
    says so (from the calendar's start), at most the rule's days a month (days of what the stockpile's days
    count). One compiled call (``sim.kernels.stockpiles``)."""
    forced = net.forced_release_days_per_month[day] if state.k >= 0 else np.zeros(net.n_countries)
    use = state.use_own[REFINERY]
    oxide, pile = state.oxide, state.pile
    kernel.release(oxide.tagged, oxide.rows, oxide.count, pile.tagged, pile.rows, pile.count, use,
                   _per_day(use, net, day), net.stockpile_elements, net.release_below_days,
                   net.release_days_per_month, forced, float(net.step_days), DAYS_PER_MONTH)


def fill(state: State, net: Network, day: int) -> None:
    """Stockpiles open with their initial size (full unless built up to a date; one given in t and built up
    to a date opens empty), with the provenance of the country's oxide stock."""
    opens_full = net.stockpile_in_t & (net.stockpile_build_step < 0)
    size = _size(net.stockpile_initial_days, state.use_own[REFINERY], net, day, opens_full)
    state.pile.tagged = shares(state.oxide.tagged) * size[:, None, :]
