"""The Python API takes what a user naturally writes, and says clearly what it cannot take."""
import datetime as dt

import pytest

import sim
from sim.engine.simulation import as_date

from .conftest import MINIMAL


def test_end_may_be_an_iso_string(write):
    scenario = sim.load_scenario(write(MINIMAL))
    by_string = sim.run(scenario, end="2025-06-30")
    by_date = sim.run(scenario, end=dt.date(2025, 6, 30))
    assert by_string.dates[-1] == by_date.dates[-1]
    assert by_string.summary().to_dict() == by_date.summary().to_dict()


def test_an_end_that_is_not_a_date_is_a_clear_error():
    with pytest.raises(ValueError, match="end='2026-02-30' is not a date: write it YYYY-MM-DD"):
        as_date("2026-02-30", "end")
    with pytest.raises(TypeError, match="end must be a datetime.date or a 'YYYY-MM-DD' string"):
        as_date(20260630, "end")
    assert as_date(dt.datetime(2026, 6, 30, 12), "end") == dt.date(2026, 6, 30)


def test_dependency_on_a_country_name_names_the_valid_codes(write):
    results = sim.run(sim.load_scenario(write(MINIMAL)), end="2025-03-31")
    with pytest.raises(ValueError, match=r"on='China'.*did you mean CN\?.*the codes are CN, JP, KR"):
        results.dependency(on="China")
    assert set(results.dependency(on="CN")["on"]) == {"CN"}
