"""Bad back-test input is refused before any run, located at file, key path and line; failures of a run say
which episode and replication; a replication without a value does not hide the others.

Each case edits one target of a copy of seeds/ (with a copy of scenarios/ beside it) and reads what the
back-test says of it.
"""
from __future__ import annotations

import datetime as dt

from sim import load_scenario, run
from sim.results.columns import KEYS, VALUES, codes

from .conftest import SCENARIOS


def test_every_key_a_run_holds_is_a_code_of_its_scenario_and_every_table_has_its_named_columns():
    """The codes the checks accept are those the tables hold: a run's tables are date, keys, values."""
    scenario = load_scenario(SCENARIOS / "april_2025_licensing.yaml")
    results = run(scenario, end=dt.date(2025, 6, 30))
    known = codes(scenario)
    for table, keys in KEYS.items():
        frame = results.table(table)
        assert list(frame.columns) == ["date", *keys, *VALUES[table]], table
        for key in keys:
            assert set(frame[key].astype(str)) <= set(known[table][key]), (table, key)
    assert {"applied", "approved", "refused"} <= set(results.table("licences")["outcome"])
