"""Monte Carlo ensembles: independent streams per replication, identical whatever the workers, resumable."""
from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from sim import Simulation, load_scenario, run_ensemble
from sim.experiments import executors
from sim.experiments.bands import PERCENTILES, nanpercentiles
from sim.experiments.ensemble import (
    EnsembleError,
    _prepare,
    replication_folder,
)
from sim.experiments.single import is_random
from sim.files import json_safe
from sim.scenario import drawn_inputs

from .conftest import MINIMAL, SCENARIOS

END = dt.date(2026, 3, 31)       # a year of April 2025 licensing, with random review times and approvals
LICENSING = SCENARIOS / "april_2025_licensing.yaml"


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(LICENSING)


@pytest.fixture(scope="module")
def one_worker(scenario, tmp_path_factory):
    return run_ensemble(scenario, 4, tmp_path_factory.mktemp("one") / "ens", end=END, workers=1)


def test_replications_draw_different_worlds_and_decisions(one_worker):
    unmet = [s.countries["US"].cumulative_unmet_t for s in one_worker.summaries]
    assert len(set(unmet)) == len(unmet)


def test_two_workers_give_bit_identical_bands(scenario, one_worker, tmp_path):
    two = run_ensemble(scenario, 4, tmp_path / "ens", end=END, workers=2)
    for name in ("bands.csv", "headline_bands.csv"):
        assert (two.folder / name).read_bytes() == (one_worker.folder / name).read_bytes()


@pytest.mark.parametrize("workers, ahead", [(2, True), (1, False)])
def test_an_ensemble_on_workers_compiles_the_engine_ahead_once_where_the_cache_lacks_it(scenario, tmp_path,
                                                                                       monkeypatch, workers, ahead):
    """Not once in each worker: on every core first (``sim.kernels.precompile``); one worker compiles as it runs."""
    monkeypatch.setattr("sim.kernels.compiled", lambda: False)
    compiled = []
    monkeypatch.setattr("sim.kernels.precompile", lambda: compiled.append(True))
    run_ensemble(scenario, 2, tmp_path / "ens", end=dt.date(2025, 6, 30), workers=workers)
    assert compiled == ([True] if ahead else [])


def test_replication_r_is_the_run_with_replication_r(scenario, one_worker):
    """Replication 2 rerun alone gives exactly its summary in the ensemble (how a failed one is rerun)."""
    results = Simulation(scenario, end=END, replication=2).run()
    alone = json.loads(json.dumps(json_safe(results.summary().to_dict())))
    assert alone["drawn"] == drawn_inputs(scenario, results.world)
    assert alone == {k: v for k, v in one_worker.summaries[2].to_dict().items() if k != "replication"}


def test_bands_hold_p5_p50_p95_of_every_series(one_worker):
    bands = pd.read_csv(one_worker.folder / "bands.csv")
    assert {"metric", "country", "element", "date", "p5", "p50", "p95", "replications"} <= set(bands.columns)
    assert (bands["p5"] <= bands["p50"] + 1e-12).all() and (bands["p50"] <= bands["p95"] + 1e-12).all()
    assert (bands["replications"] == 4).all()
    short = bands[(bands["metric"] == "shortfall_share") & (bands["country"] == "US")]
    assert (short["p95"] > short["p5"]).any()         # uncertainty shows as a band, not a line


def test_a_resumed_ensemble_runs_only_the_missing_replications(scenario, one_worker, tmp_path):
    folder = tmp_path / "ens"
    shutil.copytree(one_worker.folder, folder)
    shutil.rmtree(replication_folder(folder, 1))
    resumed = run_ensemble(scenario, 4, folder, end=END, workers=1, resume=True)
    assert resumed.ran == 1
    assert (folder / "bands.csv").read_bytes() == (one_worker.folder / "bands.csv").read_bytes()


def test_resuming_another_ensemble_is_refused(scenario, one_worker, tmp_path):
    folder = tmp_path / "ens"
    shutil.copytree(one_worker.folder, folder)
    with pytest.raises(EnsembleError, match="seed"):
        run_ensemble(scenario, 4, folder, seed=7, end=END, workers=1, resume=True)


def test_a_failing_replication_is_reported_with_its_seed_and_the_rest_go_on(scenario, tmp_path, monkeypatch):
    real = Simulation.run

    def fails_for_r1(self, progress=None):
        if self.replication == 1:
            raise RuntimeError("boom")
        return real(self)
    monkeypatch.setattr(Simulation, "run", fails_for_r1)
    ens = run_ensemble(scenario, 3, tmp_path / "ens", end=END, workers=1)
    assert [(f.replication, f.seed) for f in ens.failures] == [(1, 0)] and "boom" in ens.failures[0].error
    assert len(ens.summaries) == 2
    assert json.loads((tmp_path / "ens" / "failures.json").read_text())["failures"][0]["replication"] == 1


def test_a_replication_that_kills_its_worker_is_found_and_the_others_are_saved(scenario, tmp_path, monkeypatch):
    """Its death breaks the pool and every replication in it; retried one by one, only it fails again."""
    real = Simulation.run

    def dies_for_r1(self, progress=None):
        if self.replication == 1:
            os._exit(3)
        return real(self)
    monkeypatch.setattr(Simulation, "run", dies_for_r1)      # worker processes are forked: they inherit it
    ens = run_ensemble(scenario, 4, tmp_path / "ens", end=END, workers=2)
    assert [f.replication for f in ens.failures] == [1] and "died" in ens.failures[0].error
    assert len(ens.summaries) == 3


class CountsItsPickling:
    """A task that counts how often this process pickles it, to send it to a worker."""
    pickled = 0

    def __call__(self, r: int) -> int:
        return r

    def __reduce__(self):
        type(self).pickled += 1
        return CountsItsPickling, ()


def test_a_pool_s_workers_are_given_its_task_once_each_not_with_every_replication():
    """A sweep's task binds every variant of its scenario: sent with each replication, all of them would be
    pickled and unpickled every time."""
    CountsItsPickling.pickled = 0
    done = sorted(executors.on_processes(CountsItsPickling(), list(range(12)), workers=2))
    assert done == [(r, None) for r in range(12)]
    assert CountsItsPickling.pickled <= 2


def test_starting_afresh_in_a_used_folder_leaves_nothing_of_the_old_ensemble(one_worker, tmp_path):
    """Killed before its first replication, a new ensemble must not leave the old one's bands beside its
    manifest; a resumed one drops what a killed replication left half-written."""
    folder = tmp_path / "ens"
    shutil.copytree(one_worker.folder, folder)
    (folder / "plots").mkdir()
    (folder / "replications" / ".r00009.unfinished").mkdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    _prepare(folder, manifest, resume=True)
    assert not (folder / "replications" / ".r00009.unfinished").exists() and (folder / "bands.csv").exists()
    _prepare(folder, manifest | {"seed": 5}, resume=False)
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json"]


def test_the_cli_runs_an_ensemble_and_names_what_it_wrote(tmp_path):
    out = tmp_path / "ens"
    done = subprocess.run([sys.executable, "-m", "sim", str(LICENSING), "--replications", "3", "--workers", "2",
                           "--end", END.isoformat(), "--out", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "3 replications of seed 0" in done.stdout and "P95" in done.stdout
    assert "replications" not in done.stderr          # no progress bar when output is not a terminal
    assert "note:" not in done.stderr                 # its licences draw: no note that replications are identical
    assert sorted(p.name for p in (out / "replications").iterdir()) == ["r00000", "r00001", "r00002"]
    assert (out / "bands.csv").is_file() and (out / "headline_bands.csv").is_file()


@pytest.mark.parametrize("name, random", [("japan_ban", False), ("baseline", False), ("japan_ban_uncertain", True),
                                          ("suspension_uncertain", True), ("april_2025_licensing", True)])
def test_a_scenario_is_random_when_it_has_a_distribution_a_probability_or_a_refusing_licence(name, random):
    assert is_random(load_scenario(SCENARIOS / f"{name}.yaml")) is random


@pytest.mark.parametrize("approval, random", [(0.8, True), (1.0, False)])
def test_a_licence_with_fixed_terms_is_random_only_when_it_can_refuse(write, approval, random):
    """A fixed review time approved every time decides the same in every replication; a chance of refusal does not."""
    licence = f"""\
  - type: export_licence
    exporter: CN
    start: 2025-06-01
    processing_days: 30
    approval: {approval}
"""
    assert is_random(load_scenario(write(MINIMAL + licence))) is random


def test_the_cli_notes_that_replications_without_uncertain_input_are_identical(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", str(SCENARIOS / "japan_ban.yaml"), "--replications", "2",
                           "--workers", "1", "--end", "2024-03-31", "--no-plots", "--out", str(tmp_path / "ens")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    note = [line for line in done.stderr.splitlines() if line.startswith("note:")]
    assert len(note) == 1 and "japan_ban has no uncertain input" in note[0]
    assert "2 replications will be identical" in note[0] and "japan_ban_uncertain.yaml" in note[0]


def test_replication_r_alone_runs_once_even_where_the_scenario_asks_for_an_ensemble(tmp_path, capsys):
    """japan_ban_uncertain sets run.replications: 200; --replication 2 still runs replication 2 only."""
    from sim.cli import main
    out = tmp_path / "r2"
    assert main([str(SCENARIOS / "japan_ban_uncertain.yaml"), "--replication", "2", "--end", "2026-06-30",
                 "--out", str(out), "--no-plots"]) == 0
    assert json.loads((out / "manifest.json").read_text())["replication"] == 2
    assert not (out / "replications").exists()
    assert main([str(SCENARIOS / "japan_ban_uncertain.yaml"), "--end", "2026-06-30", "--replications", "1",
                 "--out", str(tmp_path / "one"), "--no-plots"]) == 0
    assert "one draw" in capsys.readouterr().err       # a single run of uncertain inputs says it is one draw


def test_a_malformed_scheduler_address_is_refused_at_once(tmp_path, capsys):
    from sim.cli import main
    assert main([str(LICENSING), "--replications", "2", "--scheduler", "localhost", "--out",
                 str(tmp_path / "e")]) == 2
    assert "tcp://HOST:PORT" in capsys.readouterr().err
    assert not (tmp_path / "e").exists()


def test_replications_csv_puts_what_each_drew_beside_what_it_gave(tmp_path):
    """One row per replication: the drawn inputs and the headline figures, so an analyst sees what moves
    what; here, in every replication that read the Japan ban as defence-only, Japan never went short."""
    scenario = load_scenario(SCENARIOS / "japan_ban_uncertain.yaml")
    run_ensemble(scenario, 6, tmp_path / "ens", end=dt.date(2027, 6, 30), workers=2)
    table = pd.read_csv(tmp_path / "ens" / "replications.csv")
    assert list(table["replication"]) == list(range(6))
    assert table["drawn.stockpiles.JP.days"].between(21, 180).all()
    assert table["drawn.stockpiles.JP.days"].nunique() == 6
    defence_only = table["drawn.events.ban_read_as_defence_only.happened"].astype(bool)
    assert (table.loc[defence_only, "JP.peak_shortfall_share"] == 0).all()
    assert (table.loc[~defence_only, "JP.peak_shortfall_share"] > 0.5).all()


def test_the_bands_percentiles_are_numpys_nanpercentile_row_by_row_to_the_last_bit():
    """Rows banded a block at a time (rows with the same count of values) give what NumPy's nanpercentile gives
    for each row: ties, NaN (a replication without the value), rows of NaN only."""
    rng = np.random.default_rng(7)
    values = rng.random((300, 40)) * 10 ** rng.uniform(-4, 4, size=(300, 1))
    values[:, ::4] = np.where(rng.random((300, 1)) < 0.3, 1.0, values[:, ::4])       # ties
    values[rng.random(values.shape) < 0.3] = np.nan
    values[:5] = np.nan
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)                              # NumPy's "All-NaN slice"
        expected = [np.nanpercentile(values, p, axis=1) for p in PERCENTILES]
    got = nanpercentiles(values, PERCENTILES)
    for p, want, have in zip(PERCENTILES, expected, got):
        np.testing.assert_array_equal(have, want, err_msg=f"P{p}")


ARRAYS_OF_A_STEP = """
import resource, numpy as np
from sim.experiments.executors import reuse_freed_memory
print(reuse_freed_memory())
stock = np.zeros((20, 81, 11, 3))                # a week's tagged stocks by grade: 428 kB
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    stock = stock + 1.0
before = faults()
for _ in range(200):
    stock = stock + 1.0
print(faults() - before)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only")
def test_a_worker_started_as_dask_starts_it_reuses_freed_arrays_rather_than_mapping_them_anew():
    """A Dask nanny sets MALLOC_TRIM_THRESHOLD_=65536, which makes glibc map every array of 128 kB or more
    from the system and hand it back when freed; a replication's worker undoes that, so 200 weekly steps'
    arrays reuse the same memory instead of faulting in 105 pages each."""
    done = subprocess.run([sys.executable, "-c", ARRAYS_OF_A_STEP], capture_output=True, text=True,
                          env=os.environ | {"MALLOC_TRIM_THRESHOLD_": "65536"}, check=True)
    tuned, page_faults = done.stdout.split()
    assert tuned == "True" and int(page_faults) < 200
