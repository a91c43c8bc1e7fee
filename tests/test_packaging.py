"""The package as it is shipped and fingerprinted: every room of sim/ in the wheel, every source in the code hash."""
import shutil
import subprocess
import sys
import zipfile

from sim.experiments.manifest import PACKAGE, code_sha256, sources_sha256
from sim.scenario.events import MEASURE_TYPES

from .conftest import ROOT


def test_the_wheel_ships_every_module_of_every_subpackage(tmp_path):
    """pip builds a wheel holding each .py under sim/, subpackages included (a bare packages = ["sim"] ships none),
    and the list of kernels to compile ahead.

    Built from a clean copy of the sources: a build/ folder left in a checkout would ship its stale modules."""
    source = tmp_path / "source"
    shutil.copytree(ROOT / "sim", source / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("sim-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {name for name in names if name.endswith(".py")}
    sources = {path.relative_to(ROOT).as_posix() for path in (ROOT / "sim").rglob("*.py")}
    assert sources == shipped
    assert "sim/kernels/signatures.txt" in names          # the kernels a first run compiles ahead
    assert {"sim/engine/trade.py", "sim/scenario/schema.py", "sim/plots/briefing.py"} <= shipped


def test_editing_a_module_in_a_subpackage_changes_the_code_hash(tmp_path):
    """The hash that decides whether compare may reuse a saved run covers every .py under sim/, however deep."""
    copy = tmp_path / "sim"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert sources_sha256(copy) == code_sha256()
    trade = copy / "engine" / "trade.py"
    trade.write_text(trade.read_text(encoding="utf-8").replace("SHORT_SHARE = 0.005", "SHORT_SHARE = 0.006"),
                     encoding="utf-8")
    assert sources_sha256(copy) != code_sha256()


def test_moving_a_module_changes_the_code_hash(tmp_path):
    """The same source under another path is other code (its relative imports mean other things)."""
    copy = tmp_path / "sim"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "engine" / "mining.py").rename(copy / "world" / "mining.py")
    assert sources_sha256(copy) != code_sha256()


def test_every_measure_the_schema_accepts_has_a_behaviour_in_the_engine():
    """Each export measure type a scenario may write is one class in the engine's registry, and no more."""
    from sim.engine.measures import MEASURES

    assert set(MEASURES) == set(MEASURE_TYPES)
