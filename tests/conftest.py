"""Shared fixtures: paths of the shipped scenarios and a writer of small scenario files."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sim import portable

# before NumPy is loaded: the suite runs the code the golden reference was recorded with, on any x86-64 CPU
PORTABLE = portable.apply()

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SEEDS = ROOT / "seeds"

MINIMAL = """\
name: tiny
calendar: {start: 2025-01-01, end: 2026-12-31, step_days: 7}
countries:
  CN: {name: China}
  JP: {name: Japan}
  KR: {name: South Korea}
facilities:
  mine:
    cn_mine: {name: A mine, country: CN, capacity_t: 1000, composition: {NdPr: 0.3, Ce: 0.7}, source: usgs25_mine_cn}
  refinery:
    cn_ref: {name: A refinery, country: CN, capacity_t: 1000, recovery: 0.9, source: separation_recovery}
  magnet:
    jp_mag: {name: A magnet plant, country: JP, capacity_t: 500, source: asm_magnet_plants}
magnet_grades:
  standard: {recipe: {NdPr: 0.31, Dy: 0.005}, source: asm_grade_recipes}
sectors:
  ev: {name: EVs, unit: vehicle, magnet_kg_per_unit: 1.5, grades: {standard: 1.0}, source: ev_magnet_kg}
demand:
  JP: {ev: {units_per_year: 100000, source: asm_sector_split}}
trade:
  suppliers:
    refinery:
      JP: {shares: {CN: 0.6, KR: 0.4}, source: asm_trade_shares}
events:
  - type: export_ban
    id: ban
    exporter: CN
    importers: [JP]
    elements: [Dy, Tb]
    start: 2026-01-06
"""


@pytest.fixture
def write(tmp_path):
    """write(text, name='s.yaml') -> path of a scenario file in a fresh folder."""

    def _write(text: str, name: str = "s.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


# CI must be reproducible: the same examples on every run there; locally hypothesis explores.
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_sessionstart(session):
    """Compile the kernels the shipped scenarios call before the tests start, on every core at once, where the
    cache lacks them: once here rather than in each of pytest-xdist's processes (this hook runs before they
    start, and again in each of them, which then finds the kernels cached)."""
    from sim import kernels

    if not hasattr(session.config, "workerinput") and not kernels.compiled():
        kernels.precompile()
