"""What export measures read from the stocks, compiled: the origin rule's share of an exporter's material."""
from __future__ import annotations

import numpy as np

from . import kernel
from .sums import pairwise_sum


@kernel
def over_origin_share(tagged: np.ndarray, origin_rows: np.ndarray, threshold: float,
                      concentrate: bool) -> np.ndarray:
    """[C, X] (concentrate: [C, 1], its elements together) 1.0 where a country's stock of an item holds more than
    ``threshold`` of its mass in the provenance rows of one kind of origin (``origin_rows`` [K, O]: for each
    kind, mined or refined, the rows of the origin countries), else 0.0; a stock without mass holds none.
    ``tagged`` [C, Q, X] t. The arithmetic of the NumPy it replaces, in its order: a concentrate's row summed
    over its elements pairwise, the origin rows added one after another, the largest share of the kinds
    compared."""
    C, X = tagged.shape[0], tagged.shape[2]
    width = 1 if concentrate else X
    above = np.zeros((C, width))
    for c in range(C):
        for x in range(width):
            mass = _held(tagged, c, 0, x, concentrate)
            share = 0.0
            if mass > 0:
                for k in range(origin_rows.shape[0]):
                    held = _held(tagged, c, origin_rows[k, 0], x, concentrate)
                    for o in range(1, origin_rows.shape[1]):
                        held += _held(tagged, c, origin_rows[k, o], x, concentrate)
                    share = max(share, held / mass)
            if share > threshold:
                above[c, x] = 1.0
    return above


@kernel
def _held(tagged: np.ndarray, c: int, q: int, x: int, concentrate: bool) -> float:
    """Row ``q`` of country ``c``'s stock: item ``x``, or (concentrate) all its elements."""
    return pairwise_sum(tagged[c, q]) if concentrate else tagged[c, q, x]
