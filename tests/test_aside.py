"""Plots drawn in a second process beside the tables (the command line's way): the same files as drawn in
line, and a failure there is the run's failure, reported as one, with nothing partial left."""
import errno
import importlib
import os
import time

import pytest

from sim.aside import beside, can_fork
from sim.cli import main
from sim.experiments.single import DRAWN_BESIDE, run, save

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
