"""The command line's second processes: its folder written by a process started ahead of the run, and plots
drawn in another beside the tables. The same files as written in line; a failure there is the run's failure,
reported as one, with nothing partial and no process left behind."""
import errno
import importlib
import os
import signal
import time

import numpy as np
import pytest

import sim.aside
import sim.experiments.saving
from sim.aside import ahead, beside, can_fork
from sim.cli import main
from sim.experiments.saving import DRAWN_BESIDE, save
from sim.experiments.single import run

from .conftest import MINIMAL

pytestmark = pytest.mark.skipif(not can_fork(), reason="plots are drawn beside the tables on Linux with 2+ cores")

END = "2025-06-30"


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "scenarios" / "tiny.yaml"
    path.parent.mkdir()
    path.write_text(MINIMAL, encoding="utf-8")
    return path


def files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_plots_drawn_beside_the_tables_are_byte_for_byte_those_drawn_in_line(tiny, tmp_path):
    results = run(tiny, end=END)
    beside_tables = files(save(results, tmp_path / "beside", plots=True, plots_beside=True))
    in_line = files(save(results, tmp_path / "in_line", plots=True))
    assert sorted(beside_tables) == sorted(in_line) and any(name.startswith("plots/") for name in in_line)
    different = [name for name in in_line if name != "manifest.json" and beside_tables[name] != in_line[name]]
    assert different == []


def _plots_fail(monkeypatch, error: BaseException) -> None:
    """The shortfall chart, which the second process draws, fails with ``error``."""
    assert "shortfall" in DRAWN_BESIDE

    def fail(*args, **kwargs):
        raise error
    monkeypatch.setattr(importlib.import_module("sim.plots.briefing"), "shortfall_figure", fail)


def test_a_full_disk_while_the_plots_are_drawn_is_one_line_and_exit_2_with_nothing_left(tiny, monkeypatch,
                                                                                          capsys):
    _plots_fail(monkeypatch, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "shortfall.png"))
    out = tiny.parent.parent / "results" / "tiny"
    assert main([str(tiny), "--end", END, "--quiet", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and "No space left on device" in captured.err
    assert list(out.parent.iterdir()) == []                    # no folder, no temporary one beside it


def test_a_plot_that_fails_beside_the_tables_fails_the_save_with_the_plot_s_traceback(tiny, tmp_path,
                                                                                      monkeypatch):
    results = run(tiny, end=END)
    _plots_fail(monkeypatch, ValueError("no axis for the flows"))
    with pytest.raises(RuntimeError, match=r"(?s)Traceback.*ValueError: no axis for the flows"):
        save(results, tmp_path / "results" / "out", plots=True, plots_beside=True)
    assert list((tmp_path / "results").iterdir()) == []


def test_when_the_main_process_fails_the_second_one_is_stopped_not_waited_for(tmp_path):
    started = time.perf_counter()
    with pytest.raises(KeyError), beside(lambda: time.sleep(60)):
        raise KeyError("the tables failed")
    assert time.perf_counter() - started < 30
    with pytest.raises(ChildProcessError):                     # reaped: no process of ours is left behind
        os.waitpid(-1, os.WNOHANG)


def _no_process_left() -> None:
    with pytest.raises(ChildProcessError):                     # reaped: no process of ours is left behind
        os.waitpid(-1, os.WNOHANG)


def test_the_command_writes_the_same_files_with_or_without_its_second_processes(tiny, monkeypatch):
    """Where it cannot fork (one core, macOS, Windows) the command writes in line, byte for byte the same."""
    forked, in_line = tiny.parent.parent / "results" / "forked", tiny.parent.parent / "results" / "in_line"
    assert main([str(tiny), "--end", END, "--quiet", "--out", str(forked)]) == 0
    for module in (sim.aside, sim.experiments.saving):
        monkeypatch.setattr(module, "can_fork", lambda: False)
    assert main([str(tiny), "--end", END, "--quiet", "--out", str(in_line)]) == 0
    written = files(forked)
    assert written == files(in_line) and "plots/flows.png" in written and "tables/unmet.csv" in written
    _no_process_left()


def _killed(*args, **kwargs) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_writer_that_dies_fails_the_command_in_one_line_exit_2_leaving_no_folder(tiny, monkeypatch, capsys):
    """Killed as it takes the run's results (out of memory, say): the run is not reported as written."""
    monkeypatch.setattr(sim.experiments.saving, "write_run", _killed)
    out = tiny.parent.parent / "results" / "tiny"
    assert main([str(tiny), "--end", END, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == f"python -m sim: cannot write {out}: the second process was killed by SIGKILL; " \
                                   f"nothing written"
    assert "results in" not in captured.out
    assert list(out.parent.iterdir()) == []                    # no folder, no temporary one, no lock
    _no_process_left()


def _check_arrays(arrays: dict, sums: dict) -> None:
    if {k: float(v.sum()) for k, v in arrays.items()} != sums or not all(v.flags.writeable for v in arrays.values()):
        raise ValueError("the arrays changed on their way")


def test_arrays_handed_to_the_process_ahead_arrive_whole_and_writable():
    """Tens of MB (a run's records) through the pipe, from memory to memory."""
    arrays = {"demand": np.random.default_rng(0).random((520, 20, 40)), "ints": np.arange(3_000_000),
              "transposed": np.random.default_rng(1).random((300, 200)).T}
    with ahead(lambda: None) as writer:
        writer.do(_check_arrays, arrays, {k: float(v.sum()) for k, v in arrays.items()})
    _no_process_left()


def _fail_like_a_bug(*args) -> None:
    raise ValueError("no such column")


def test_a_failing_task_ahead_is_raised_here_with_its_traceback():
    with pytest.raises(RuntimeError, match=r"(?s)Traceback.*ValueError: no such column"), ahead(lambda: None) as w:
        w.do(_fail_like_a_bug, np.zeros(10))
    _no_process_left()


def test_a_process_ahead_that_is_handed_nothing_is_stopped_when_the_block_ends():
    """An invalid scenario, a run that fails or is interrupted: the writer, waiting, is ended at once."""
    started = time.perf_counter()
    with pytest.raises(KeyError), ahead(lambda: time.sleep(60)):
        raise KeyError("the run failed")
    with ahead(lambda: None):
        pass
    assert time.perf_counter() - started < 30
    _no_process_left()


def test_a_process_ahead_whose_preparation_fails_still_does_its_task():
    """``prepare`` is a head start: what it cannot import, the task meets again and reports."""
    def prepare():
        raise ImportError("no matplotlib here")

    with ahead(prepare) as writer:
        writer.do(_check_arrays, {"a": np.ones(3)}, {"a": 3.0})
    _no_process_left()
