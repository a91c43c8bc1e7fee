"""One writer per output folder, and interruptions that lose nothing finished and leave no process behind.

A run or ensemble into a folder another process is writing is refused (exit 2) and the folder left as it was;
temporary files have names of their own; a resume refuses replications of another seed or scenario; Ctrl-C
stops an ensemble at once (exit 130, no traceback, finished replications kept, the resume command printed);
``kill -9`` of an ensemble ends its workers within seconds.
"""
from __future__ import annotations

import ctypes
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sim import load_scenario, run_ensemble
from sim.errors import EnsembleError
from sim.files import atomic_write
from sim.locks import folder_lock

from .conftest import MINIMAL, ROOT

UNCERTAIN = MINIMAL.replace("capacity_t: 1000, composition",
                            "capacity_t: {dist: triangular, low: 800, mode: 1000, high: 1200}, composition")
END = "2025-06-30"


def sim(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          **kwargs)


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("replications", [1, 2])
def test_a_run_into_a_folder_another_run_is_writing_is_refused_and_the_folder_left_intact(write, tmp_path,
                                                                                        replications):
    scenario, out = write(UNCERTAIN), tmp_path / "out"
    first = sim(scenario, "--end", END, "--replications", replications, "--workers", 1, "--no-plots", "--out", out)
    assert first.returncode == 0, first.stderr
    before = files(out)
    with folder_lock(out):                     # another run (this process) is writing out
        second = sim(scenario, "--end", END, "--replications", replications, "--workers", 1, "--out", out)
    assert second.returncode == 2
    assert second.stderr.strip() == (f"python -m sim: {out} is being written by another run (process {os.getpid()}); "
                                     "wait for it to finish, or write elsewhere with --out")
    assert files(out) == before
    again = sim(scenario, "--end", END, "--replications", replications, "--workers", 1, "--no-plots", "--out", out)
    assert again.returncode == 0, again.stderr      # the lock went with its holder
    assert not (tmp_path / "out.lock").exists()


def test_a_lock_is_released_when_its_holder_is_killed(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from sim.locks import folder_lock\n"
                               f"with folder_lock({str(tmp_path / 'out')!r}):\n print('held', flush=True); "
                               "time.sleep(60)"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(Exception, match="being written by another run"), folder_lock(tmp_path / "out"):
        pass
    holder.kill()
    holder.wait()
    with folder_lock(tmp_path / "out"):        # its lock file is still there, its lock is not
        pass


def test_two_writers_of_one_file_use_temporary_names_of_their_own(tmp_path):
    names, errors = [], []

    def slow(temporary: Path) -> None:
        names.append(temporary.name)
        temporary.write_text(temporary.name)
        time.sleep(0.2)                        # both are writing at once

    def writer() -> None:
        try:
            atomic_write(tmp_path / "bands.csv", slow)
        except Exception as exc:               # the shared '.bands.csv.tmp' made one of them fail
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(names)) == 4 and all(str(os.getpid()) in name for name in names)
    assert (tmp_path / "bands.csv").read_text() in names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bands.csv"]


def test_a_resume_refuses_a_replication_made_with_another_seed(write, tmp_path):
    scenario = load_scenario(write(UNCERTAIN))
    end = dt.date.fromisoformat(END)
    run_ensemble(scenario, 3, tmp_path / "one", seed=1, end=end, workers=1)
    run_ensemble(scenario, 3, tmp_path / "two", seed=2, end=end, workers=1)
    stray = tmp_path / "one" / "replications" / "r00001"
    shutil.rmtree(stray)
    shutil.copytree(tmp_path / "two" / "replications" / "r00001", stray)
    with pytest.raises(EnsembleError, match=r"1 replication on disk was not made with this ensemble's seed 1 .*"
                                            r"r00001 \(seed 2\)"):
        run_ensemble(scenario, 3, tmp_path / "one", seed=1, end=end, workers=1, resume=True)
    shutil.rmtree(stray)                       # as the message says: removed, it is rerun
    resumed = run_ensemble(scenario, 3, tmp_path / "one", seed=1, end=end, workers=1, resume=True)
    assert resumed.ran == 1 and [s.seed for s in resumed.summaries] == [1, 1, 1]


def _as_in_a_terminal() -> None:
    """Ctrl-C's default in the child: a shell starts background jobs with SIGINT ignored, and a test run
    (CI) launched that way would otherwise hand the ignoring on to the command under test."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(scenario: Path, out: Path, replications: int) -> subprocess.Popen:
    """An ensemble in a session of its own, as in a terminal: Ctrl-C signals every process of its group."""
    return subprocess.Popen([sys.executable, "-m", "sim", str(scenario), "--replications", str(replications),
                             "--workers", "2", "--end", END, "--no-plots", "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_as_in_a_terminal)


def _wait_for(condition, seconds: float = 60) -> None:
    limit = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < limit, "timed out"
        time.sleep(0.1)


def _saved(out: Path) -> list[str]:
    return sorted(p.parent.name for p in (out / "replications").glob("r*/summary.json"))


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _compilers(pid: int) -> list[int]:
    """The children of ``pid`` that compile kernels (started by ``sim.kernels.precompile``)."""
    def compiles(child: int) -> bool:
        try:
            return b"sim.kernels" in Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            return False
    return [child for child in _children(pid) if compiles(child)]


def _alive(pid: int) -> bool:
    """Running (not gone, and not a zombie waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_stops_an_ensemble_at_once_keeps_what_finished_and_says_how_to_resume(write, tmp_path):
    scenario, out = write(UNCERTAIN), tmp_path / "ens"
    ensemble = _start(scenario, out, 400)
    _wait_for(lambda: len(_saved(out)) >= 2)
    workers = _children(ensemble.pid)
    os.killpg(ensemble.pid, signal.SIGINT)     # what Ctrl-C in a terminal does
    stdout, stderr = ensemble.communicate(timeout=20)
    assert ensemble.returncode == 130
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    saved = _saved(out)
    assert 2 <= len(saved) < 400
    assert f"interrupted; {len(saved)} of 400 replications are saved in {out}" in stderr
    assert (f"resume with: python -m sim {scenario} --replications 400 --seed 0 --end {END} --out {out} --resume"
            in stderr)
    assert not (out / "bands.csv").exists() and not (tmp_path / "ens.lock").exists()
    _wait_for(lambda: not any(_alive(w) for w in workers), 5)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_workers_of_a_killed_ensemble_stop_within_seconds(write, tmp_path):
    scenario, out = write(UNCERTAIN), tmp_path / "ens"
    ensemble = _start(scenario, out, 400)
    _wait_for(lambda: len(_saved(out)) >= 1 and len(_children(ensemble.pid)) == 2)
    workers = _children(ensemble.pid)
    ensemble.kill()
    ensemble.wait()
    _wait_for(lambda: not any(_alive(w) for w in workers), 5)
    saved = _saved(out)
    time.sleep(1)
    assert _saved(out) == saved                # nothing writes there any more


def _start_run(out: Path) -> subprocess.Popen:
    """One run of the Japan ban in a session of its own, as in a terminal."""
    return subprocess.Popen([sys.executable, "-m", "sim", str(ROOT / "scenarios" / "japan_ban_uncertain.yaml"),
                             "--replications", "1", "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, preexec_fn=_as_in_a_terminal)


@pytest.mark.parametrize("after", [0.0, 0.12, 1.0])
def test_ctrl_c_stops_a_single_run_in_one_line_and_leaves_no_folder_and_no_process(tmp_path, after):
    """At any moment: while the engine's libraries load (Numba, which imports SciPy, just after the lock is
    taken), while a cached kernel is read on its first call, or in the middle of the run. The process that
    would write the folder (started as the run starts, where it can fork) ends with it."""
    out = tmp_path / "run"
    run = _start_run(out)
    _wait_for((tmp_path / "run.lock").exists)
    writers = _children(run.pid)
    time.sleep(after)
    os.killpg(run.pid, signal.SIGINT)
    stdout, stderr = run.communicate(timeout=20)
    assert run.returncode == 130
    assert [line for line in stderr.splitlines() if line.strip()] == [
        "python -m sim: interrupted; no partial output was left"]
    assert not out.exists() and not (tmp_path / "run.lock").exists()
    assert not any(_alive(w) for w in writers)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_writer_of_a_killed_run_ends_with_it(tmp_path):
    """``kill -9`` of the command in the middle of its run: the process waiting to write its folder does not
    linger (nor write anything)."""
    from sim.aside import can_fork

    if not can_fork():
        pytest.skip("the command writes in line here")
    out = tmp_path / "run"
    run = _start_run(out)
    _wait_for((tmp_path / "run.lock").exists)
    writers = _children(run.pid)
    assert len(writers) == 1
    run.kill()
    run.communicate(timeout=20)
    _wait_for(lambda: not any(_alive(w) for w in writers), 5)
    assert not out.exists()


def test_a_ctrl_c_that_left_code_run_from_a_string_still_exits_130(tmp_path):
    """SciPy runs ``exec("from numpy import *")`` as Numba imports it; CPython then remembers the Ctrl-C as
    never caught, and would end ``python -m ...`` by SIGINT although the command line handled it."""
    (tmp_path / "interrupted_in_exec.py").write_text(
        "import sys\nimport sim.cli as cli\n"
        "def interrupted(argv):\n    exec('raise KeyboardInterrupt')\n"
        "cli._main = interrupted\nsys.exit(cli.main([]))\n")
    run = subprocess.run([sys.executable, "-m", "interrupted_in_exec"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 130
    assert run.stderr.strip() == "python -m sim: interrupted; no partial output was left"


def test_a_ctrl_c_inside_a_compiled_kernel_is_a_ctrl_c():
    """Numba reads a cached kernel by calling Python from C: a Ctrl-C there comes out as a SystemError
    caused by the KeyboardInterrupt."""
    from sim.kernels import ctrl_c_stays_ctrl_c

    def kernel_loading():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("returned a result with an exception set") from exc

    with pytest.raises(KeyboardInterrupt), ctrl_c_stays_ctrl_c():
        kernel_loading()
    with pytest.raises(SystemError), ctrl_c_stays_ctrl_c():      # any other error stays what it is
        raise SystemError("a fault of its own")


def test_a_ctrl_c_that_a_callback_from_compiled_code_dropped_still_stops_the_run(monkeypatch):
    """llvmlite tells Python of a loaded kernel through a ctypes callback, and ctypes drops an exception raised
    in a callback: a Ctrl-C there let the run go on to the end and exit 0 (2 of 40 on a loaded machine)."""
    from sim.kernels import ctrl_c_pending, ctrl_c_stays_ctrl_c

    def ctrl_c():
        signal.raise_signal(signal.SIGINT)

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)  # where "Exception ignored ..." is printed
    loaded = ctypes.CFUNCTYPE(None)(ctrl_c)
    loaded()                                                     # outside the engine: dropped, as ctypes does
    assert [type(r.exc_value) for r in reported] == [KeyboardInterrupt]
    with pytest.raises(KeyboardInterrupt), ctrl_c_stays_ctrl_c():
        loaded()                                                 # dropped by ctypes, noted by the engine
        with pytest.raises(KeyboardInterrupt):
            ctrl_c_pending()                                     # what the next step checks
        loaded()
    assert len(reported) == 1                                    # and not reported: it is raised again
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler and sys.unraisablehook == reported.append
    ctrl_c_pending()                                             # nothing left over after the block


def test_a_run_stopped_by_a_ctrl_c_a_callback_dropped_raises_it_at_the_next_step(monkeypatch):
    import sim.engine.simulation as simulation
    from sim import Simulation, load_scenario

    def ctrl_c():
        signal.raise_signal(signal.SIGINT)

    dropped = ctypes.CFUNCTYPE(None)(ctrl_c)
    make_magnets, steps = simulation.make_magnets, []

    def making(*args, **kwargs):                 # a kernel's first call, whose loading sees the Ctrl-C
        steps.append(1)
        if len(steps) == 3:
            dropped()
        return make_magnets(*args, **kwargs)

    monkeypatch.setattr(simulation, "make_magnets", making)
    with pytest.raises(KeyboardInterrupt):
        Simulation(load_scenario(ROOT / "scenarios" / "japan_ban.yaml"), seed=0).run()
    assert len(steps) == 3                       # stopped at the step after, not at the end of the run


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; forks where Linux is")
def test_a_process_ahead_ends_when_its_parent_is_killed_in_the_middle_of_its_task(tmp_path):
    """Even busy (a folder half written), the writer of a process killed by ``kill -9`` is ended by the kernel."""
    code = "import time\nfrom sim.aside import ahead\nwith ahead(lambda: None) as w:\n    w.do(time.sleep, 60)\n"
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    _wait_for(lambda: len(_children(parent.pid)) == 1)
    child = _children(parent.pid)[0]
    time.sleep(1)                             # the task has started
    parent.kill()
    parent.wait()
    _wait_for(lambda: not _alive(child), 5)


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
                    reason="reads /proc; compiles ahead where there are two cores or more")
def test_ctrl_c_while_the_engine_compiles_ahead_stops_its_compilers_too(tmp_path):
    """A first run (an empty kernel cache) compiles the engine on two processes of their own session before it
    starts: a Ctrl-C in the terminal stops the command in one line more, and it stops them."""
    out = tmp_path / "run"
    run = subprocess.Popen([sys.executable, "-m", "sim", str(ROOT / "scenarios" / "japan_ban.yaml"), "--out", str(out)],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                           preexec_fn=_as_in_a_terminal, env=os.environ | {"NUMBA_CACHE_DIR": str(tmp_path / "cache")})
    _wait_for(lambda: len(_compilers(run.pid)) == 2)
    compilers = _children(run.pid)             # and the process started to write the run's folder
    os.killpg(run.pid, signal.SIGINT)
    stdout, stderr = run.communicate(timeout=20)
    assert run.returncode == 130
    assert [line for line in stderr.splitlines() if line.strip()] == [
        "python -m sim: compiling the engine for this machine, once (a minute or two on 2 cores; later runs "
        "start at once)", "python -m sim: interrupted; no partial output was left"]
    assert not out.exists()
    assert not any(_alive(c) for c in compilers)
