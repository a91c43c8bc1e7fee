"""Ensembles on a Dask cluster (--scheduler): the same results, bit for bit, as on local processes."""
from __future__ import annotations

import json
import os
import shutil
import socket

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")   # a declared dependency: only a guard
import dask  # (after distributed, whose defaults dask.config.set below must not drop)

import sim.experiments.ensemble
from sim import load_scenario, run_ensemble
from sim.cli import main
from sim.errors import EnsembleError
from sim.experiments.ensemble import MONTHLY, replication_folder
from sim.results.series import load_banded

from .test_ensemble import END, LICENSING

N = 4


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(LICENSING)


@pytest.fixture(scope="module")
def local(scenario, tmp_path_factory):
    return run_ensemble(scenario, N, tmp_path_factory.mktemp("local") / "ens", end=END, workers=1)


@pytest.fixture(scope="module")
def on_dask(scenario, cluster, tmp_path_factory):
    return run_ensemble(scenario, N, tmp_path_factory.mktemp("dask") / "ens", end=END,
                        scheduler=cluster.scheduler_address)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_cluster_gives_bit_identical_results_to_one_local_worker(local, on_dask):
    assert on_dask.ran == N and not on_dask.failures
    for name in ("bands.csv", "headline_bands.csv"):
        assert (on_dask.folder / name).read_bytes() == (local.folder / name).read_bytes()
    for r in range(N):
        here, there = replication_folder(local.folder, r), replication_folder(on_dask.folder, r)
        for mine, theirs in zip(load_banded(here / MONTHLY), load_banded(there / MONTHLY), strict=True):
            np.testing.assert_array_equal(theirs, mine)
        assert json.loads((there / "summary.json").read_text()) == json.loads((here / "summary.json").read_text())


def test_a_resumed_ensemble_on_a_cluster_runs_only_the_missing_ones(scenario, cluster, local, tmp_path):
    folder = tmp_path / "ens"
    shutil.copytree(local.folder, folder)
    shutil.rmtree(replication_folder(folder, 2))
    resumed = run_ensemble(scenario, N, folder, end=END, resume=True, scheduler=cluster.scheduler_address)
    assert resumed.ran == 1
    assert (folder / "bands.csv").read_bytes() == (local.folder / "bands.csv").read_bytes()


def fails_for_r1(scenario, seed, end, folder, r, digest=None):
    """Runs on the cluster's workers in place of run_replication (pickled by reference to this module)."""
    if r == 1:
        raise RuntimeError("boom")
    return sim.experiments.ensemble.run_replication(scenario, seed, end, folder, r, digest)


def test_a_replication_failing_on_a_cluster_is_reported_with_its_seed(scenario, cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(sim.experiments.ensemble, "run_replication", fails_for_r1)
    ens = run_ensemble(scenario, 3, tmp_path / "ens", seed=5, end=END, scheduler=cluster.scheduler_address)
    assert [(f.replication, f.seed) for f in ens.failures] == [(1, 5)] and "RuntimeError: boom" in ens.failures[0].error
    assert [s.replication for s in ens.summaries] == [0, 2]
    assert json.loads((tmp_path / "ens" / "failures.json").read_text())["failures"][0]["seed"] == 5


def worker_dies_once_at_r2(scenario, seed, end, folder, r, digest=None):
    """The worker process running replication 2 dies the first time (as by kill -9 or a lost machine)."""
    marker = folder.parent / "worker_died"
    if r == 2 and not marker.exists():
        marker.touch()
        os._exit(1)
    return sim.experiments.ensemble.run_replication(scenario, seed, end, folder, r, digest)


def test_a_worker_lost_mid_run_changes_nothing(scenario, cluster, local, tmp_path, monkeypatch):
    """Dask gives the lost worker's replication to another worker; the same seed gives the same bands."""
    monkeypatch.setattr(sim.experiments.ensemble, "run_replication", worker_dies_once_at_r2)
    ens = run_ensemble(scenario, N, tmp_path / "ens", end=END, scheduler=cluster.scheduler_address)
    assert (tmp_path / "worker_died").exists()
    assert ens.ran == N and not ens.failures
    for name in ("bands.csv", "headline_bands.csv"):
        assert (ens.folder / name).read_bytes() == (local.folder / name).read_bytes()


def writes_elsewhere(scenario, seed, end, folder, r, digest=None):
    """A worker that does not share the client's disk: its files go where the client cannot see them."""
    return r


def test_workers_that_do_not_share_the_folder_are_reported(scenario, cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(sim.experiments.ensemble, "run_replication", writes_elsewhere)
    ens = run_ensemble(scenario, 2, tmp_path / "ens", end=END, scheduler=cluster.scheduler_address)
    assert [f.replication for f in ens.failures] == [0, 1] and ens.ran == 0
    assert "a shared disk, at the same path" in ens.failures[0].error


def test_workers_running_other_sim_code_are_refused(scenario, cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(sim.experiments.ensemble, "code_sha256", lambda: "0" * 64)      # as if the client's code differed
    ens = run_ensemble(scenario, 2, tmp_path / "ens", end=END, scheduler=cluster.scheduler_address)
    assert [f.replication for f in ens.failures] == [0, 1]
    assert "EnsembleError: the worker runs other sim code" in ens.failures[0].error


def test_the_cli_runs_an_ensemble_on_a_cluster(cluster, local, tmp_path, capsys):
    out = tmp_path / "ens"
    assert main([str(LICENSING), "--replications", "2", "--scheduler", cluster.scheduler_address,
                 "--end", END.isoformat(), "--out", str(out)]) == 0
    assert "2 replications of seed 0" in capsys.readouterr().out
    assert (out / "bands.csv").is_file() and (out / "headline_bands.csv").is_file()
    for r in range(2):
        here, there = replication_folder(local.folder, r), replication_folder(out, r)
        assert json.loads((there / "summary.json").read_text()) == json.loads((here / "summary.json").read_text())


def test_an_unreachable_scheduler_is_named_and_nothing_is_written(scenario, tmp_path, capsys):
    address = f"tcp://127.0.0.1:{unused_port()}"
    out = tmp_path / "ens"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(EnsembleError, match=f"cannot reach the Dask scheduler at {address}"):
            run_ensemble(scenario, 2, out, end=END, scheduler=address)
        assert main([str(LICENSING), "--replications", "2", "--scheduler", address, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Dask scheduler at {address}" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("extra, says", [
    (["--replications", "2", "--workers", "2"], "--scheduler and --workers do not go together"),
    (["--replications", "2", "--replication", "1"], "--scheduler and --replication do not go together"),
    (["--replications", "1"], "--scheduler runs an ensemble on a Dask cluster"),
])
def test_scheduler_options_that_do_not_go_together_are_refused(extra, says, tmp_path, capsys):
    out = tmp_path / "run"
    assert main([str(LICENSING), "--scheduler", "tcp://127.0.0.1:1", "--out", str(out), *extra]) == 2
    assert says in capsys.readouterr().err
    assert not out.exists()


def test_a_sensitivity_analysis_on_the_cluster_gives_the_runs_and_indices_of_local_processes(cluster):
    """The samples of a sensitivity analysis run on the cluster's workers, with the same results as here."""
    import pandas as pd

    from sim import sensitivity

    from .test_sensitivity import END as YEAR_OF_BAN
    from .test_sensitivity import JAPAN, STOCKPILE

    asked = dict(samples=2, end=YEAR_OF_BAN, metrics=["JP.cumulative_unmet_t"])
    here = sensitivity(JAPAN, [STOCKPILE], workers=1, **asked)
    there = sensitivity(JAPAN, [STOCKPILE], scheduler=cluster.scheduler_address, **asked)
    pd.testing.assert_frame_equal(here.runs, there.runs)
    pd.testing.assert_frame_equal(here.indices, there.indices)
    assert here.runs["JP.cumulative_unmet_t"].nunique() > 1
