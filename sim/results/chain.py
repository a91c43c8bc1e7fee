"""The chain by country: what each stage used in a country, by the country where it was made one stage up.

Read from the provenance rows the recorder keeps (``consumed_tags``,
``made_tags``; row layout in ``world.provenance``), all in t REO:

- ``refinery``: concentrate fed to separation in ``country``, by the mining
  country (``origin_stage`` ``mine``)
- ``magnet``: the rare-earth content of magnets made in ``country``, by the
  country that separated its oxides (``origin_stage`` ``refinery``)
- ``end_use``: the rare-earth content of magnets end users in ``country``
  used, by the magnet-making country (``origin_stage`` ``magnet``)

Every t a stage used carries the country one stage up, so a stage's rows in
a country sum to what it used there (oxides recovered from end-of-life
magnets count as separated where they were recovered). Separation losses and
oxides not used in magnets leave between stages: a stage's rows need not sum
to the rows of the stage above.
"""
from __future__ import annotations

import numpy as np

from ..stages import MAGNET, MINE, REFINERY
from ..world.provenance import Tags
from .recorder import Recorder

CHAIN = ((REFINERY, MINE), (MAGNET, REFINERY), ("end_use", MAGNET))   # (stage, origin_stage)


def chain_links(raw: Recorder, tags: Tags) -> list[tuple[str, str, np.ndarray]]:
    """(stage, origin_stage, t REO ``[step, country, origin]``) for each link of ``CHAIN``."""
    arrays = (raw.consumed_tags[:, 0, :, tags.kind("mined")],    # separation feed by mining country
              raw.made_tags[:, :, tags.kind("refined")],          # magnets made by separating country
              raw.consumed_tags[:, 2, :, tags.kind("made")])      # end use by magnet-making country
    return [(stage, origin_stage, array) for (stage, origin_stage), array in zip(CHAIN, arrays)]
