"""What each step imports: ``import sim`` and a run load no heavy library; tables bring pandas, plots matplotlib.

Each case runs in a fresh interpreter (the test process itself has everything loaded already).
"""
import subprocess
import sys

import pytest

from .conftest import ROOT, SCENARIOS

HEAVY = ("pandas", "pyarrow", "matplotlib", "dask", "distributed", "scipy", "hypothesis")
RUN = (f"import datetime, sim\nscenario = sim.load_scenario({str(SCENARIOS / 'japan_ban.yaml')!r})\n"
       "results = sim.run(scenario, end=datetime.date(2024, 6, 30))\n")


def loaded(code: str, *modules: str) -> list[str]:
    """Which of ``modules`` (default: HEAVY) a fresh interpreter has imported after running ``code``."""
    names = modules or HEAVY
    probe = f"{code}\nimport sys\nprint('loaded:', *(m for m in {names!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1].split()[1:]


def test_import_sim_loads_no_heavy_library():
    """``import sim`` loads none of pandas, pyarrow, matplotlib, Dask, SciPy, Hypothesis (nor the model itself)."""
    assert loaded("import sim", *HEAVY, "pydantic", "simpy", "sim.engine") == []


def test_a_run_loads_neither_pandas_nor_matplotlib():
    """A run of a scenario, from loading it to its Results, their arrays and their summary, needs no heavy
    library of ours. (SciPy, when installed, comes with Numba, which binds LAPACK through it: not ours to spare.)"""
    ours = tuple(m for m in HEAVY if m != "scipy")
    assert loaded(RUN + "assert results.raw.demand.sum() > 0 and results.summary().countries", *ours) == []


def test_the_command_s_main_process_leaves_pandas_and_matplotlib_to_its_writer(tmp_path):
    """``python -m sim SCENARIO.yaml`` runs the engine while a second process loads what writing needs
    (where it can fork): the main process never imports them."""
    from sim.aside import can_fork

    if not can_fork():
        pytest.skip("the command writes in line here")
    command = (f"import sim.cli\nassert sim.cli.main([{str(SCENARIOS / 'japan_ban.yaml')!r}, '--end', '2024-06-30', "
               f"'--quiet', '--out', {str(tmp_path / 'out')!r}]) == 0")
    assert loaded(command, "pandas", "matplotlib") == []
    assert (tmp_path / "out" / "plots" / "flows.png").exists() and (tmp_path / "out" / "tables" / "unmet.csv").exists()


def test_a_run_s_folder_is_written_from_its_results_without_the_engine_or_numba(tmp_path):
    """What the command's writer does (``sim.cli._writer``): take a run's results, pickled, and write its folder,
    tables and plots. It loads neither the engine nor Numba (half a second of its head start), and leaves the
    kernels' modules unread."""
    import pickle

    results = sim_run_to_june()
    (tmp_path / "results.pkl").write_bytes(pickle.dumps(results, protocol=5))
    write = (f"import pickle, sys\nfrom pathlib import Path\nfrom sim.experiments.saving import write_run\n"
             f"results = pickle.loads(Path({str(tmp_path / 'results.pkl')!r}).read_bytes())\n"
             f"(Path({str(tmp_path / 'out')!r})).mkdir()\nwrite_run(results, Path({str(tmp_path / 'out')!r}))")
    assert loaded(write, "numba", "sim.engine", "llvmlite") == []
    assert (tmp_path / "out" / "plots" / "flows.png").exists() and (tmp_path / "out" / "tables" / "unmet.csv").exists()


def sim_run_to_june():
    import datetime

    import sim

    return sim.run(sim.load_scenario(SCENARIOS / "japan_ban.yaml"), end=datetime.date(2024, 6, 30))


def test_tables_load_pandas_and_plots_matplotlib_without_pyplot():
    """pandas comes with the first table; matplotlib with the first plot, which never loads pyplot."""
    assert loaded(RUN + "results.table('unmet', 'month')", "pandas", "matplotlib") == ["pandas"]
    drawn = RUN + "from sim.plots.briefing import shortfall_figure\nshortfall_figure(results)"
    assert loaded(drawn, "pandas", "matplotlib", "matplotlib.pyplot") == ["pandas", "matplotlib"]


def test_the_command_line_imports_only_what_a_command_uses():
    """``--version`` loads neither pydantic nor pandas; the CLI module alone, no comparison, sweep or back-test."""
    version = "import sim.cli\ntry:\n    sim.cli.main(['--version'])\nexcept SystemExit:\n    pass"
    assert loaded(version, "pydantic", "pandas", "sim.scenario") == []
    assert loaded("import sim.cli", *HEAVY, "sim.experiments.comparison", "sim.experiments.sweeps",
                  "sim.backtest", "sim.experiments.ensemble") == []


def test_the_api_names_resolve_as_documented():
    """Every name of ``sim.__all__`` is there on first use; ``sim.backtest`` stays the function even after the
    subpackage of that name is imported."""
    code = ("import sim, sim.backtest.targets\nnames = [n for n in sim.__all__ if getattr(sim, n, None) is None]\n"
            "print('missing', names, callable(sim.backtest), sim.run.__module__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[0] == "missing [] True sim.experiments.single"
