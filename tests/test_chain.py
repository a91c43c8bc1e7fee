"""The chain table: t REO each stage used in a country, by the country one stage up, read from provenance."""
import datetime

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario
from sim.engine.simulation import Simulation
from sim.results.periods import Period, total_in
from sim.world.provenance import Tags

from .conftest import SCENARIOS

COLUMNS = ["date", "stage", "country", "origin_stage", "origin", "t"]


@pytest.fixture(scope="module")
def results():
    """The Japan ban run past its first year, so the first year of the chain is complete."""
    return Simulation(load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, end=datetime.date(2025, 6, 30)).run()


def _matrix(chain: pd.DataFrame, stage: str, countries: tuple[str, ...]) -> np.ndarray:
    """[origin, country] t of one stage, summed over the dates of ``chain``."""
    rows = chain[chain["stage"] == stage].groupby(["origin", "country"])["t"].sum().unstack(fill_value=0.0)
    return rows.reindex(index=list(countries), columns=list(countries), fill_value=0.0).to_numpy()


def test_the_chain_is_a_table_of_the_run_with_its_columns(results):
    assert "chain" in results.TABLES
    chain = results.table("chain", "month")
    assert list(chain.columns) == COLUMNS
    assert set(zip(chain["stage"], chain["origin_stage"])) == {("refinery", "mine"), ("magnet", "refinery"),
                                                               ("end_use", "magnet")}
    assert set(chain["country"]) | set(chain["origin"]) <= set(results.countries)
    assert (chain["t"] > 0).all()


def test_the_chain_table_is_the_provenance_rows_of_the_recorder(results):
    """The first year of the chain, computed here from the raw provenance rows: the table holds the same t."""
    raw, tags = results.raw, Tags(len(results.countries))
    steps = round(365.25 / results.summary().step_days)
    consumed = raw.consumed_tags[:steps].sum(axis=0)          # [stage, country, provenance row]
    made = raw.made_tags[:steps].sum(axis=0)                  # [country, provenance row]
    expected = {"refinery": consumed[0][:, tags.kind("mined")].T,      # [mining country, separating country]
                "magnet": made[:, tags.kind("refined")].T,             # [separating country, magnet country]
                "end_use": consumed[2][:, tags.kind("made")].T}        # [magnet country, using country]
    chain = results.table("chain", "step")
    first_year = chain[chain["date"] < results.dates[steps]]
    for stage, matrix in expected.items():
        assert matrix.sum() > 1e3
        np.testing.assert_allclose(_matrix(first_year, stage, results.countries), matrix, rtol=1e-12, atol=1e-9)


def test_each_stage_sums_to_what_it_used_in_each_country(results):
    """Separation feed, the REO in magnets made and the REO in magnets end users used, by country and step."""
    raw = results.raw
    chain = results.table("chain", "step")
    used = {"refinery": raw.feed,
            "magnet": raw.magnets_made @ raw.recipe_reo,
            "end_use": raw.consumed_tags[:, 2, :, 0]}
    for stage, expected in used.items():
        rows = chain[chain["stage"] == stage].groupby(["date", "country"])["t"].sum().unstack(fill_value=0.0)
        got = rows.reindex(index=results.dates, columns=list(results.countries), fill_value=0.0).to_numpy()
        assert expected.sum() > 1e3
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)


def test_a_year_of_the_chain_is_its_steps_over_the_years_days(results):
    """2024 holds the steps of its days: the step of 30 Dec 2024 counts for its 2 days in 2024."""
    by_step = results.table("chain", "step")
    by_year = results.table("chain", "year")
    keys = ["stage", "country", "origin"]
    year = Period.parse("2024")
    step_2024 = by_step.groupby(keys)[["date", "t"]].apply(lambda g: total_in(g, "t", 7.0, year))
    step_2024 = step_2024[step_2024.abs() > 1e-12]                 # as the tables keep only what moved
    year_2024 = by_year[by_year["date"] == pd.Timestamp("2024-01-01")].set_index(keys)["t"]
    pd.testing.assert_series_equal(year_2024.sort_index(), step_2024.sort_index(), check_names=False, rtol=1e-12)
