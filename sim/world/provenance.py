"""Provenance: where the rare earths in a stock or a shipment were mined, refined and made.

Material is held as *tagged mass*: an array ``[..., Q, X]`` over items ``X``
(elements, or magnet grades) whose row 0 is the mass itself and whose other
rows split that mass by country of mining, of refining, of magnet making, and
the mass that passed through each country at any of those stages ("touched").
Because every row is a mass, mixing stocks is addition and taking a share of a
stock is multiplication: provenance mixes proportionally with no extra rule.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import lazy

tag_kernels = lazy("tagged")     # Numba loaded at its first kernel, not with this module

KINDS = ("mined", "refined", "made", "touched")


@dataclass(frozen=True)
class Tags:
    """Row layout of tagged mass for ``n`` countries: 1 + 4n rows. ``kept``: the kinds a run writes (every kind,
    unless it asks for fewer: the rows of the others stay empty, and reading them is an error). Touched is
    always kept."""

    n: int
    kept: tuple[str, ...] = KINDS

    def __post_init__(self) -> None:
        if "touched" not in self.kept or not set(self.kept) <= set(KINDS):
            raise ValueError(f"provenance kept: {self.kept!r}; expected some of {KINDS}, touched among them")
        # each kept kind's first row: the step's parts ask for them several times a step
        object.__setattr__(self, "_first", {kind: 1 + k * self.n for k, kind in enumerate(KINDS) if kind in self.kept})

    @property
    def rows(self) -> int:
        return 1 + len(KINDS) * self.n

    def kind(self, kind: str) -> slice:
        """Rows of one kind of provenance, one per country."""
        k = self._index(kind)
        return slice(1 + k * self.n, 1 + (k + 1) * self.n)

    def row(self, kind: str, country: int) -> int:
        first = self._first.get(kind)
        return (1 + self._index(kind) * self.n if first is None else first) + country

    def written(self, kind: str) -> int:
        """The first row of a kind, as the kernels that stamp new mass take it: -1 for a kind the run does not
        keep, which they leave unwritten."""
        return self._first.get(kind, -1)

    def _index(self, kind: str) -> int:
        if kind in KINDS and kind not in self.kept:
            raise ValueError(f"this run kept no '{kind}' provenance (only {', '.join(self.kept)}): run it again "
                             f"keeping every kind (sim.run's provenance=None) to read it")
        return KINDS.index(kind)

    def new(self, *shape: int) -> np.ndarray:
        """Zero tagged mass of shape ``[*lead, Q, X]`` given ``(*lead, X)``."""
        return np.zeros((*shape[:-1], self.rows, shape[-1]))

    def originate(self, mass: np.ndarray, kind: str) -> np.ndarray:
        """Tagged mass for ``mass[C, X]`` made in country c (row index of the first axis) at stage ``kind``."""
        out = self.new(*mass.shape)
        tag_kernels.add_origin(out, *tag_kernels.live_rows(out), mass, self.written(kind), self.row("touched", 0))
        return out

    def stamp(self, tagged: np.ndarray, kind: str) -> np.ndarray:
        """Mark tagged mass ``[C, Q, X]`` as processed at stage ``kind`` in country c (its first index), in place."""
        tag_kernels.stamp(tagged, self.written(kind), self.row("touched", 0))
        return tagged


class TaggedFlow:
    """Tagged mass that left or joined stocks in a step (fed to plants, used, made, sunk): its mass ``mass``
    [C, X] (row 0: t REO, or t magnet) and its provenance rows that hold anything, as entries: ``at`` [n]
    (country c's row q as c Q + q, ascending) with their tagged mass ``values`` [n, X]. The other rows hold
    nothing: a flow's entries grow with what moved, not with the square of the countries."""

    __slots__ = ("mass", "at", "values")

    def __init__(self, mass: np.ndarray, at: np.ndarray, values: np.ndarray):
        self.mass, self.at, self.values = mass, at, values

    def dense(self, rows: int) -> np.ndarray:
        """[C, Q, X] the flow's tagged mass whole, for ``rows`` (Q) provenance rows."""
        C, X = self.mass.shape
        tagged = np.zeros((C * rows, X))
        tagged[self.at] = self.values
        return tagged.reshape(C, rows, X)


def shares(tagged: np.ndarray) -> np.ndarray:
    """Each row as a share of the mass (row 0); zero where there is no mass."""
    mass = tagged[..., :1, :]
    return np.where(mass > 0, tagged / np.where(mass > 0, mass, 1.0), 0.0)
