"""Stocks of a stage's product in every country, tagged with provenance (``sim.world.provenance``): row 0 is
the mass (t REO for concentrate and oxides, t magnet for magnets), the other rows split it by country of
mining, separation and magnet making."""
from __future__ import annotations

import numpy as np

from ..kernels.tagged import live_rows


class Stocks:
    """Tagged stocks of one stage's product in every country, ``tagged`` [C, Q, X], with each country's rows
    that may hold anything, ``rows`` [C, Q] and ``count`` [C] (``sim.kernels.tagged``): the kernels visit
    those only, and count the rows they add mass to. Stocks set whole are looked over anew."""

    __slots__ = ("_tagged", "rows", "count")

    def __init__(self, tagged: np.ndarray):
        self.tagged = tagged

    @property
    def tagged(self) -> np.ndarray:
        """[C, Q, X] tagged mass."""
        return self._tagged

    @tagged.setter
    def tagged(self, value: np.ndarray) -> None:
        self._tagged = value
        self.rows, self.count = live_rows(value)

    @property
    def mass(self) -> np.ndarray:
        """[C, X] t REO (or t magnet) by item."""
        return self._tagged[:, 0, :]
