"""Tables by month, quarter and year hold what happened on the period's days: a weekly step that straddles a
boundary is split by its days, levels are read at the period's last day, rates averaged over its days."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim import run
from sim.results import periods
from sim.results.periods import Period, PeriodSteps, calendar_periods, day_matrix, in_periods, mean_in, total_in
from sim.results.sparse import SparseSteps

from .conftest import SCENARIOS

STEP_DAYS = 7.0


@pytest.fixture(scope="module")
def baseline():
    """The baseline: a world at rest, whose mines and China's demand do the same every week."""
    return run(SCENARIOS / "baseline.yaml", seed=0)


@pytest.fixture(scope="module")
def licensing():
    """A world that changes: China's licences of April 2025, exports and prices moving, run to the end of 2025."""
    return run(SCENARIOS / "april_2025_licensing.yaml", seed=0, end=dt.date(2025, 12, 31))


def _steps(first: str, values: list[float]) -> pd.Series:
    return pd.Series(pd.date_range(first, periods=len(values), freq="7D"))


def _months(first: str, end: str) -> list[Period]:
    return calendar_periods(dt.date.fromisoformat(first), dt.date.fromisoformat(end), "month")


# ---------------------------------------------------------------- a small constructed case
def test_a_step_that_straddles_a_month_end_puts_its_tonnes_in_each_month_by_its_days():
    """7 t in the step of 29 Jan .. 4 Feb 2025: 3 days (3 t) in January, 4 days (4 t) in February."""
    dates = _steps("2025-01-22", [0.0, 7.0, 0.0])                 # 22 Jan, 29 Jan, 5 Feb
    months = _months("2025-01-22", "2025-02-12")
    flow = np.array([0.0, 7.0, 0.0])
    assert [m.label for m in months] == ["2025-01", "2025-02"]
    np.testing.assert_allclose(in_periods(flow, day_matrix(dates, STEP_DAYS, months), STEP_DAYS, "sum"), [3.0, 4.0])


def test_a_level_at_month_end_is_that_of_the_step_covering_the_last_day():
    """A stock of 10, 20, 30 t in the steps of 22 Jan, 29 Jan and 5 Feb: January ends in the step of 29 Jan."""
    dates = _steps("2025-01-22", [10.0, 20.0, 30.0])
    days = day_matrix(dates, STEP_DAYS, _months("2025-01-22", "2025-02-12"))
    np.testing.assert_allclose(in_periods(np.array([10.0, 20.0, 30.0]), days, STEP_DAYS, "last"), [20.0, 30.0])


def test_a_mean_over_a_month_weights_each_step_by_its_days_in_the_month():
    """A price of 100 for 7 days of March and 200 for its last day (31 March) averages (700 + 200) / 8."""
    dates = _steps("2025-03-24", [100.0, 200.0])
    days = day_matrix(dates, STEP_DAYS, _months("2025-03-24", "2025-04-07"))
    mean = in_periods(np.array([100.0, 200.0]), days, STEP_DAYS, "mean")
    np.testing.assert_allclose(mean, [(100 * 7 + 200 * 1) / 8, 200.0])


def test_a_nan_outside_a_period_does_not_reach_it():
    """A price not yet set in the step of 22..28 January (NaN) leaves February's mean alone."""
    dates = _steps("2025-01-22", [0, 0, 0, 0])
    days = day_matrix(dates, STEP_DAYS, _months("2025-01-22", "2025-02-19"))
    mean = in_periods(np.array([np.nan, 5.0, 5.0, 5.0]), days, STEP_DAYS, "mean")
    assert np.isnan(mean[0]) and mean[1] == pytest.approx(5.0)


def test_periods_are_cut_to_the_days_given_and_keep_their_calendar_label():
    quarters = calendar_periods(dt.date(2024, 2, 15), dt.date(2024, 7, 2), "quarter")
    assert [(q.label, q.start, q.end) for q in quarters] == [
        ("2024-Q1", dt.date(2024, 2, 15), dt.date(2024, 4, 1)), ("2024-Q2", dt.date(2024, 4, 1), dt.date(2024, 7, 1)),
        ("2024-Q3", dt.date(2024, 7, 1), dt.date(2024, 7, 2))]
    with pytest.raises(ValueError, match="frequency"):
        calendar_periods(dt.date(2024, 1, 1), dt.date(2025, 1, 1), "week")


@pytest.mark.parametrize("frequency, code", [("month", "M"), ("quarter", "Q"), ("year", "Y")])
def test_calendar_periods_are_the_periods_pandas_counts_between_the_same_days(frequency, code):
    """Months, quarters and years are those pandas' period_range gives for the same days, labelled as
    ``Period.parse`` reads them, the first and last cut to the days given."""
    rng = np.random.default_rng(4)
    for _ in range(200):
        first = dt.date(2000, 1, 1) + dt.timedelta(days=int(rng.integers(0, 9000)))
        end = first + dt.timedelta(days=int(rng.integers(1, 2000)))
        periods = calendar_periods(first, end, frequency)
        labels = [str(p).replace("Q", "-Q") for p in pd.period_range(first, end - dt.timedelta(days=1), freq=code)]
        assert [p.label for p in periods] == labels
        assert [(p.start, p.end) for p in periods] == [(max(first, Period.parse(label).start),
                                                        min(end, Period.parse(label).end)) for label in labels]


def test_a_sparse_record_read_by_period_a_stretch_at_a_time_gives_its_dense_arrays_numbers(monkeypatch):
    """Period by period, a sparse record (made dense a few periods at a time) gives the numbers its dense array
    gives, to the last bit, however small the stretch read at once."""
    rng = np.random.default_rng(5)
    steps = 30
    dates = pd.Series(pd.date_range("2025-01-03", periods=steps, freq="7D"))
    days = day_matrix(dates, STEP_DAYS, _months("2025-01-03", "2025-08-01"))
    record, dense = SparseSteps(steps, (4, 6)), np.zeros((steps, 4, 6))
    for k in range(steps):
        block = rng.random((4, 6)) * (rng.random((4, 6)) > 0.5)
        record.put(k, block)
        dense[k] = block
    for read_bytes in (1, 1000, 1 << 20):          # a period, a few, all at once
        monkeypatch.setattr(periods, "READ_BYTES", read_bytes)
        for how in ("sum", "mean", "last"):
            by_period = PeriodSteps(days, STEP_DAYS)
            assert all(np.array_equal(a, b) for a, b in zip(by_period.blocks(record, how), by_period.of(dense, how)))


# ---------------------------------------------------------------- a world at rest
def _per_day(table: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    wide = table.pivot_table(index="date", columns=keys, values=value, aggfunc="sum").fillna(0.0)
    return wide.div(wide.index.days_in_month, axis=0)


def _constant(wide: pd.DataFrame, rtol: float) -> pd.Series:
    """Which columns hold the same value on every row, to ``rtol`` of their largest."""
    return (wide.max() - wide.min()) <= rtol * wide.abs().max()


@pytest.mark.parametrize("name, keys, value", [
    ("production", ["stage", "country", "item"], "t"),
    ("flows", ["stage", "exporter", "importer", "item"], "t"),
    ("unmet", ["country", "sector"], "demand_t")])
def test_in_a_world_at_rest_every_month_reads_the_same_tonnes_per_day(baseline, name, keys, value):
    """What the baseline does the same every week (its mines, their concentrate routes, China's demand) reads
    the same tonnes per day in every month, 28 to 31 days long."""
    steps = baseline.table(name).pivot_table(index="date", columns=keys, values=value, aggfunc="sum").fillna(0.0)
    at_rest = _constant(steps, 1e-12)
    at_rest &= steps.abs().max() > 0
    assert at_rest.sum() >= 1
    monthly = _per_day(baseline.table(name, "month"), keys, value)[steps.columns[at_rest]]
    assert len(monthly) == 120                                    # ten years, and no part-month after the end
    assert _constant(monthly, 1e-9).all(), monthly.loc[:, ~_constant(monthly, 1e-9)].iloc[:4]
    weekly = steps.loc[:, at_rest].iloc[0] / STEP_DAYS
    np.testing.assert_allclose(monthly.iloc[0], weekly, rtol=1e-9)


def test_china_demands_the_same_tonnes_per_day_in_january_february_and_march(baseline):
    unmet = baseline.table("unmet", "month")
    cn = unmet[unmet["country"] == "CN"].groupby("date")["demand_t"].sum().iloc[:4]
    per_day = cn / cn.index.days_in_month
    np.testing.assert_allclose(per_day, per_day.iloc[0], rtol=1e-9)


# ---------------------------------------------------------------- mass kept
@pytest.mark.parametrize("name, value", [("production", "t"), ("flows", "t"), ("chain", "t"),
                                         ("unmet", "demand_t"), ("unmet", "supplied_t"),
                                         ("magnet_output", "made_t"), ("licences", "t")])
@pytest.mark.parametrize("frequency", ["month", "quarter", "year"])
def test_a_year_of_periods_adds_up_to_the_steps_over_the_same_days(licensing, name, value, frequency):
    """2025 by month, quarter or year holds the tonnes of the step table over 2025's days, the steps at its
    ends split by their days (the step of 30 Dec 2024 has 2 days in 2024 and 5 in 2025)."""
    year = Period.parse("2025")
    steps = licensing.table(name)
    periods = licensing.table(name, frequency)
    in_year = periods[periods["date"].dt.year == 2025][value].sum()
    expected = total_in(steps, value, STEP_DAYS, year)
    assert expected > 0
    assert in_year == pytest.approx(expected, rel=1e-9)
    whole_steps = steps[steps["date"].dt.year == 2025][value].sum()
    assert in_year != pytest.approx(whole_steps, rel=1e-9)     # the first-day rule would read another year


def test_a_month_of_the_tables_is_the_back_tests_month(licensing):
    """The back-test reads its targets from step tables (``total_in``, ``mean_in``); the monthly tables agree."""
    flows, monthly = licensing.table("flows"), licensing.table("flows", "month")
    prices, monthly_prices = licensing.table("prices"), licensing.table("prices", "month")
    for label in ("2024-01", "2024-02", "2025-03", "2025-06"):
        month = Period.parse(label)
        exports = (flows["stage"] == "magnet") & (flows["exporter"] == "CN")
        in_month = monthly[(monthly["date"] == pd.Timestamp(month.start)) & (monthly["stage"] == "magnet")
                           & (monthly["exporter"] == "CN")]["t"].sum()
        assert in_month == pytest.approx(total_in(flows[exports], "t", STEP_DAYS, month), rel=1e-12)
        dy = (prices["element"] == "Dy") & (prices["market"] == "outside")
        price = monthly_prices[(monthly_prices["date"] == pd.Timestamp(month.start)) & (monthly_prices["element"] == "Dy")
                               & (monthly_prices["market"] == "outside")]["usd_per_kg"].item()
        assert price == pytest.approx(mean_in(prices[dy], "usd_per_kg", STEP_DAYS, month), rel=1e-12)


# ---------------------------------------------------------------- levels
def test_a_stock_at_month_end_is_the_stock_of_the_step_covering_its_last_day(licensing):
    inventory, monthly = licensing.table("inventory"), licensing.table("inventory", "month")
    keys = ["country", "stage", "item"]
    for label in ("2025-01", "2025-02", "2025-05"):
        month = Period.parse(label)
        last_day = pd.Timestamp(month.end - dt.timedelta(days=1))
        covering = inventory["date"][inventory["date"] <= last_day].max()
        assert covering > last_day - pd.Timedelta(days=STEP_DAYS)
        expected = inventory[inventory["date"] == covering].set_index(keys)["t"]
        got = monthly[monthly["date"] == pd.Timestamp(month.start)].set_index(keys)["t"]
        pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False, rtol=1e-12)


def test_a_run_stopped_early_has_no_part_period_after_its_last_day(licensing):
    """Stopped on 31 Dec 2025, its last step (29 Dec .. 4 Jan) leaves no January 2026 in the tables."""
    assert licensing.dates[-1] == pd.Timestamp("2025-12-29")
    for frequency, last in (("month", "2025-12-01"), ("quarter", "2025-10-01"), ("year", "2025-01-01")):
        assert licensing.table("production", frequency)["date"].max() == pd.Timestamp(last)
