"""The chain's traded stages, upstream first, and what each makes: one table, used instead of string literals.

A stage's name stands for its product wherever goods are traded, held or
covered by a measure: ``mine`` for concentrate (t REO, all elements as one
item), ``refinery`` for separated oxides (t REO by element), ``magnet`` for
magnets (t magnet by grade).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

Stage = Literal["mine", "refinery", "magnet"]
STAGES: tuple[str, ...] = get_args(Stage)
MINE, REFINERY, MAGNET = STAGES
PRODUCT = {MINE: "concentrate", REFINERY: "oxide", MAGNET: "magnet"}


def item_names(stage: str, elements: Sequence[str], grades: Sequence[str]) -> tuple[str, ...]:
    """The names of a stage's traded items, in the order of its item axis: concentrate is one item, oxides
    one per element, magnets one per grade."""
    if stage == MINE:
        return (PRODUCT[MINE],)
    return tuple(elements) if stage == REFINERY else tuple(grades)
