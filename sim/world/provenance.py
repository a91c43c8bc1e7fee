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

KINDS = ("mined", "refined", "made", "touched")


@dataclass(frozen=True)
class Tags:
    """Row layout of tagged mass for ``n`` countries: 1 + 4n rows."""

    n: int

    @property
    def rows(self) -> int:
        return 1 + len(KINDS) * self.n

    def kind(self, kind: str) -> slice:
        """Rows of one kind of provenance, one per country."""
        k = KINDS.index(kind)
        return slice(1 + k * self.n, 1 + (k + 1) * self.n)

    def row(self, kind: str, country: int) -> int:
        return 1 + KINDS.index(kind) * self.n + country

    def new(self, *shape: int) -> np.ndarray:
        """Zero tagged mass of shape ``[*lead, Q, X]`` given ``(*lead, X)``."""
        return np.zeros((*shape[:-1], self.rows, shape[-1]))

    def originate(self, mass: np.ndarray, kind: str, countries: np.ndarray | None = None) -> np.ndarray:
        """Tagged mass for ``mass[C, X]`` made in country c (row index of the first axis) at stage ``kind``."""
        c = np.arange(mass.shape[0]) if countries is None else countries
        out = self.new(*mass.shape)
        out[:, 0] = mass
        out[np.arange(mass.shape[0]), self.row(kind, 0) + c] = mass
        out[np.arange(mass.shape[0]), self.row("touched", 0) + c] = mass
        return out

    def stamp(self, tagged: np.ndarray, kind: str) -> np.ndarray:
        """Mark tagged mass ``[C, Q, X]`` as processed at stage ``kind`` in country c (its first index), in place."""
        c = np.arange(tagged.shape[0])
        tagged[:, self.kind(kind)] = 0.0
        tagged[c, self.row(kind, 0) + c] = tagged[:, 0]
        tagged[c, self.row("touched", 0) + c] = tagged[:, 0]
        return tagged


def shares(tagged: np.ndarray) -> np.ndarray:
    """Each row as a share of the mass (row 0); zero where there is no mass."""
    mass = tagged[..., :1, :]
    return np.where(mass > 0, tagged / np.where(mass > 0, mass, 1.0), 0.0)


def add_rows(target: np.ndarray, index: np.ndarray, rows: np.ndarray) -> None:
    """``target[index[n]] += rows[n]`` for every n in order, in place: mixing shipments into stocks.

    The same sums, bit for bit, as ``np.add.at``, several times faster on tagged mass: the rows go in
    by fancy indexing in passes, the k-th pass taking each index's k-th row. (``np.add.at`` itself is
    faster on short rows: plain masses by item.)"""
    if rows[0].size <= 64:
        np.add.at(target, index, rows)
        return
    if len(index) == 1:                     # a shipment on one route: a view, no fancy indexing
        target[index[0]] += rows[0]
        return
    if len(set(index.tolist())) == len(index):
        target[index] += rows
        return
    seen: dict[int, int] = {}
    passes: list[list[int]] = []
    for n, i in enumerate(index.tolist()):
        k = seen.get(i, 0)
        seen[i] = k + 1
        if k == len(passes):
            passes.append([])
        passes[k].append(n)
    if len(passes) == 1:
        target[index] += rows
        return
    for rows_of_pass in passes:
        target[index[rows_of_pass]] += rows[rows_of_pass]


def sum_rows(index: np.ndarray, rows: np.ndarray, size: int) -> np.ndarray:
    """``out[i]`` = the sum of the ``rows`` whose ``index`` is i, in their order (as ``np.add.at`` into
    zeros, bit for bit), for i < ``size``: what each supplier sends, summed over its buyers."""
    out = np.zeros((size, *rows.shape[1:]))
    if rows[0].size <= 64:                  # short rows: np.add.at is fast (and a sum of a column is pairwise)
        np.add.at(out, index, rows)
        return out
    order = np.argsort(index, kind="stable")
    ordered = index[order].tolist()
    start = 0
    for end in range(1, len(ordered) + 1):
        if end == len(ordered) or ordered[end] != ordered[start]:
            out[ordered[start]] = rows[order[start:end]].sum(axis=0)
            start = end
    return out
