"""Outputs: a run never removes a folder that is not results of its own kind, checks before running that its
output can be written, and a fault while writing is one line and exit 2, with nothing partial left."""
import errno
import json
import os
from pathlib import Path

import pytest

from sim.cli import main
from sim.errors import OutputError
from sim.files import KINDS, atomic_folder, check_output, folder_kind

from .conftest import MINIMAL

END = "2025-03-31"


@pytest.fixture
def project(tmp_path):
    """A project folder: scenarios/tiny.yaml (and a second scenario), results/ to be written."""
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "tiny.yaml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "scenarios" / "other.yaml").write_text(MINIMAL.replace("name: tiny", "name: other"), encoding="utf-8")
    return tmp_path


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def one_line_no_traceback(capsys) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def commands(project: Path, out: Path) -> dict[str, list[str]]:
    s = project / "scenarios"
    quiet = ["--end", END, "--no-plots", "--quiet", "--out", str(out)]
    return {"run": [str(s / "tiny.yaml"), *quiet],
            "ensemble": [str(s / "tiny.yaml"), "--replications", "2", "--workers", "1", *quiet],
            "compare": ["compare", str(s / "tiny.yaml"), str(s / "other.yaml"), *quiet],
            "sweep": ["sweep", str(s / "tiny.yaml"), "--set", "facilities.mine.cn_mine.capacity_t=1000,1200", *quiet]}


@pytest.mark.parametrize("kind", ["run", "ensemble", "compare", "sweep"])
def test_a_folder_that_is_not_results_of_the_same_kind_is_refused_and_survives_intact(project, capsys, kind):
    out = project / "mine"
    (out / "plots").mkdir(parents=True)
    (out / "notes.txt").write_text("precious", encoding="utf-8")
    (out / "plots" / "figure.png").write_bytes(b"mine too")
    before = snapshot(out)
    assert main(commands(project, out)[kind]) == 2
    assert "refusing to replace it" in one_line_no_traceback(capsys)
    assert snapshot(out) == before


@pytest.mark.parametrize("kind", ["run", "ensemble", "compare", "sweep"])
def test_results_of_another_kind_are_not_replaced_either(project, capsys, kind):
    out = project / "results" / "x"
    other = "compare" if kind != "compare" else "sweep"
    out.mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps({"kind": other}), encoding="utf-8")
    assert main(commands(project, out)[kind]) == 2
    assert f"other than {kind} results" in one_line_no_traceback(capsys)
    assert [p.name for p in out.iterdir()] == ["manifest.json"]


@pytest.mark.parametrize("kind", ["run", "ensemble", "compare", "sweep"])
def test_results_of_the_same_kind_are_replaced(project, kind):
    out = project / "results" / "x"
    assert main(commands(project, out)[kind]) == 0
    assert folder_kind(out) == kind
    assert main(commands(project, out)[kind]) == 0
    assert folder_kind(out) == kind


@pytest.mark.parametrize("kind", ["run", "ensemble", "compare", "sweep"])
def test_out_naming_an_existing_file_is_refused(project, capsys, kind):
    out = project / "report.txt"
    out.write_text("keep me", encoding="utf-8")
    assert main(commands(project, out)[kind]) == 2
    assert "is a file" in one_line_no_traceback(capsys)
    assert out.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("target", ["results/x", "nowhere"])
@pytest.mark.parametrize("kind", ["run", "ensemble"])
def test_out_naming_a_symbolic_link_is_refused_and_the_link_kept(project, capsys, kind, target):
    """Replacing the folder would replace the link (and a broken one would leave it behind as litter)."""
    if target == "results/x":
        assert main(commands(project, project / target)[kind]) == 0
        capsys.readouterr()
    out = project / "link"
    out.symlink_to(project / target)
    before = snapshot(project)
    assert main(commands(project, out)[kind]) == 2
    assert "is a symbolic link" in one_line_no_traceback(capsys)
    assert out.is_symlink() and snapshot(project) == before


@pytest.mark.parametrize("kind", ["run", "ensemble", "compare", "sweep"])
def test_out_under_a_file_is_refused_before_running(project, capsys, kind):
    (project / "afile").write_text("x", encoding="utf-8")
    before = snapshot(project)
    assert main(commands(project, project / "afile" / "sub" / "out")[kind]) == 2
    line = one_line_no_traceback(capsys)
    assert "afile is a file, not a folder" in line and "nothing run" in line
    assert snapshot(project) == before


def test_a_read_only_output_folder_is_refused_before_running(project, capsys):
    place = project / "readonly"
    place.mkdir()
    place.chmod(0o555)
    try:
        probe = place / "probe"
        try:
            probe.mkdir()
            probe.rmdir()
            pytest.skip("permissions are not enforced here (running as root): see the parent-is-a-file test")
        except PermissionError:
            pass
        assert main(commands(project, place / "out")["run"]) == 2
        assert "Permission denied" in one_line_no_traceback(capsys)
        assert list(place.iterdir()) == []
    finally:
        place.chmod(0o755)


def _full_disk(monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "replace", no_space)


@pytest.mark.parametrize("kind", ["run", "compare", "sweep"])
def test_a_full_disk_while_writing_is_one_line_and_exit_2_with_nothing_partial(project, capsys, monkeypatch, kind):
    out = project / "results" / "x"
    assert main(commands(project, out)[kind]) == 0        # an earlier complete folder stays as it was
    before, around = snapshot(out), sorted(p.name for p in out.parent.iterdir())
    _full_disk(monkeypatch)
    assert main(commands(project, out)[kind]) == 2
    line = one_line_no_traceback(capsys)
    assert "No space left on device" in line and "nothing written" in line
    monkeypatch.undo()
    assert snapshot(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == around     # no temporary folder left beside it


def test_a_full_disk_where_nothing_was_before_leaves_nothing(project, capsys, monkeypatch):
    out = project / "results" / "tiny"
    _full_disk(monkeypatch)
    assert main(commands(project, out)["run"]) == 2
    one_line_no_traceback(capsys)
    assert list((project / "results").iterdir()) == []


def test_the_old_folder_is_put_back_when_the_new_one_cannot_be_moved_into_place(tmp_path, monkeypatch):
    folder = tmp_path / "r"
    with atomic_folder(folder, "run") as work:
        (work / "manifest.json").write_text('{"kind": "run", "n": 1}', encoding="utf-8")
    real = os.replace

    def fail_into_place(src, dst):
        if Path(dst) == folder and ".old-" not in Path(src).name:     # the new folder, not the old put back
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst)
    monkeypatch.setattr(os, "replace", fail_into_place)
    with pytest.raises(OSError), atomic_folder(folder, "run") as work:
        (work / "manifest.json").write_text('{"kind": "run", "n": 2}', encoding="utf-8")
    monkeypatch.undo()
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["n"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


@pytest.mark.parametrize("kind", KINDS)
def test_check_output_takes_an_empty_or_same_kind_folder_and_refuses_any_other(tmp_path, kind):
    assert check_output(tmp_path / "new", kind) == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    check_output(tmp_path / "empty", kind)
    same = tmp_path / "same"
    same.mkdir()
    (same / "manifest.json").write_text(json.dumps({"kind": kind}), encoding="utf-8")
    check_output(same, kind)
    for other in (k for k in KINDS if k != kind):
        with pytest.raises(OutputError):
            check_output(same, other)
    with pytest.raises(OutputError, match="longer than"):
        check_output(tmp_path / ("a" * 240), kind)


def test_the_golden_reference_without_a_manifest_counts_as_a_run(tmp_path):
    """results/baseline/ holds only summary.json and monthly.csv: 'python -m sim scenarios/baseline.yaml'
    still writes there."""
    (tmp_path / "summary.json").write_text("{}", encoding="utf-8")
    (tmp_path / "monthly.csv").write_text("date\n", encoding="utf-8")
    assert folder_kind(tmp_path) == "run"
    (tmp_path / "else.txt").write_text("", encoding="utf-8")
    assert folder_kind(tmp_path) is None


def test_a_scenario_named_dot_never_touches_the_results_folder(project, capsys):
    """'..yaml' without a name would have been named '.', i.e. results/ itself."""
    (project / "results" / "saved").mkdir(parents=True)
    (project / "results" / "saved" / "manifest.json").write_text('{"kind": "run"}', encoding="utf-8")
    before = snapshot(project / "results")
    dots = project / "scenarios" / "..yaml"
    dots.write_text(MINIMAL.replace("name: tiny\n", ""), encoding="utf-8")
    assert main([str(dots), "--end", END, "--no-plots", "--quiet"]) == 2
    assert "usable name" in capsys.readouterr().err
    assert snapshot(project / "results") == before
