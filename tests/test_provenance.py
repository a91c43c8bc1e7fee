"""Mixing tagged mass: the compiled row sums give np.add.at's results bit for bit, so speed never moves a result;
the rows a stock holds anything in are the rows the kernels visit."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import load_scenario
from sim.engine.simulation import Simulation
from sim.errors import InvariantError
from sim.kernels.tagged import add_rows, live_rows

from .conftest import SCENARIOS

shapes = st.sampled_from([(11,), (1,), (81, 11), (81, 3), (81, 1)])


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), targets=st.integers(1, 20), shape=shapes,
       ordered=st.booleans())
def test_adding_shipments_into_stocks_sums_as_np_add_at(seed, n, targets, shape, ordered):
    """Repeated buyers, sorted or not, long or short rows, magnitudes 1e-6 to 1e6 t: the same bits."""
    rng = np.random.default_rng(seed)
    index = rng.integers(0, targets, n)
    if ordered:
        index = np.sort(index)
    rows = rng.random((n, *shape)) * 10.0 ** rng.uniform(-6, 6, (n, *shape))
    stock = rng.random((targets, *shape)) * 10.0 ** rng.uniform(-6, 6, (targets, *shape))
    expected, got = stock.copy(), stock.copy()
    np.add.at(expected, index, rows)
    add_rows(got, index, rows)
    assert np.array_equal(got, expected)


def uncounted_rows(stocks) -> list[tuple[int, int]]:
    """(country, row) of a stock's provenance rows that hold anything but are not among its counted rows."""
    rows, count = live_rows(stocks.tagged)
    return [(c, int(q)) for c in range(len(count))
            for q in sorted(set(rows[c, :count[c]]) - set(stocks.rows[c, :stocks.count[c]]))]


TURNED_BACK_AT_SEA = f"""\
extends: {SCENARIOS / 'baseline.yaml'}
events:
  - type: export_ban
    exporter: CN
    importers: [JP, KR]
    stages: [mine, refinery, magnet]
    start: 2025-03-05
    at_sea: stop
"""


@pytest.mark.parametrize("name, end", [("japan_ban", "2026-12-31"), ("october_2025_controls", "2026-03-31"),
                                       ("turned_back_at_sea", "2025-06-30")])
def test_every_provenance_row_a_stock_holds_anything_in_is_counted_in_every_step(name, end, write):
    """The kernels visit only the rows of a stock that may hold anything (``sim.kernels.tagged``): through goods
    landing, licences refused (the October 2025 controls), goods turned back at sea (a ban with ``at_sea:
    stop``), stockpiles filled and released (Japan's), no row holds mass uncounted, at the end of any step; and
    the counted rows stay ascending."""
    path = write(TURNED_BACK_AT_SEA) if name == "turned_back_at_sea" else SCENARIOS / f"{name}.yaml"
    simulation = Simulation(load_scenario(path), seed=0, end=end)
    step, missed = simulation.next_step, []

    def checked_step() -> bool:
        more = step()
        for stage, stocks in [*simulation.state.stocks.items(), ("stockpile", simulation.state.pile)]:
            missed.extend((simulation.state.k, stage, c, q) for c, q in uncounted_rows(stocks))
            assert all((np.diff(stocks.rows[c, :stocks.count[c]]) > 0).all() for c in range(len(stocks.count)))
        return more

    simulation.next_step = checked_step
    results = simulation.run()
    assert results.tables("step") and not missed
    if name == "turned_back_at_sea":
        assert (results.table("licences")["outcome"] == "turned back at sea").any()


def test_mass_in_a_row_its_stock_does_not_count_fails_the_run_s_check():
    """A provenance row that holds oxides its stock does not count (mass the kernels would pass over) is an
    InvariantError at the run's end, naming the stock, the country and the row."""
    simulation = Simulation(load_scenario(SCENARIOS / "baseline.yaml"), seed=0, end="2025-01-31")
    simulation.run()
    oxide, q = simulation.state.oxide, simulation.net.tags.row("mined", 3)
    assert q not in oxide.rows[0, :oxide.count[0]]
    oxide.tagged[0, q, 2] = 1.0
    with pytest.raises(InvariantError, match=f"refinery stock in CN holds mass in provenance row {q}"):
        simulation.ledger.check_counted(simulation.state)


def replication_outputs(results) -> tuple:
    """What an ensemble's replication writes of its run: its summary, its monthly series and its causes."""
    import io
    import pickle

    from sim.results.causes import save_causes
    from sim.results.series import MonthlySeries

    written = []
    for save in (MonthlySeries.from_results(results).save, lambda file: save_causes(results, file)):
        buffer = io.BytesIO()
        save(buffer)
        with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=True) as arrays:
            written.append({name: arrays[name].tobytes() for name in arrays.files})
    return pickle.dumps(results.summary().to_dict()), *written


@pytest.mark.parametrize("name", sorted(f.stem for f in SCENARIOS.glob("*.yaml")))
def test_a_replication_keeping_the_provenance_its_outputs_read_writes_what_one_keeping_all_writes(name):
    """An ensemble's replication keeps the made and touched rows (``REPLICATION_PROVENANCE``), what its summary,
    monthly series and causes read, and what its origin rules read (mined and refined, where its world has one):
    for every shipped scenario it writes them to the bit as a run that keeps every row, and its flows are the
    same."""
    from sim.experiments.ensemble import REPLICATION_PROVENANCE

    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    every = Simulation(scenario, seed=0, replication=1).run()
    kept = Simulation(scenario, seed=0, replication=1, provenance=REPLICATION_PROVENANCE).run()
    origin_rule = any(e.type == "origin_rule" for e in kept.world.events)
    assert set(kept.net.tags.kept) == ({"mined", "refined", "made", "touched"} if origin_rule else {"made", "touched"})
    assert replication_outputs(kept) == replication_outputs(every)
    assert kept.raw.supplied.tobytes() == every.raw.supplied.tobytes()


def test_a_table_of_provenance_a_run_did_not_keep_is_refused_and_says_how_to_get_it():
    """The chain table reads where oxides were mined and refined: from a run that kept only made and touched, it
    is an error that names the kind and the way to keep it, not a table of zeros."""
    results = Simulation(load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, end="2025-06-30",
                         provenance=("made", "touched")).run()
    with pytest.raises(ValueError, match=r"kept no 'mined' provenance.*provenance=None"):
        results.table("chain")


def test_a_kind_of_provenance_that_does_not_exist_is_refused_by_name():
    """A typo in the kinds asked for would keep fewer rows than meant, silently: it is an error that names it and
    the kinds there are."""
    with pytest.raises(ValueError, match=r"'minde' is not a kind of provenance; the kinds are mined, refined"):
        Simulation(load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, provenance=("minde", "touched"))
