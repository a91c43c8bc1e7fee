"""The README's Python example runs as written: the public API it shows is the API there is."""
import os
import re
import subprocess
import sys

import pytest

from .conftest import ROOT


def python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.slow
def test_the_readme_python_example_runs_as_written(tmp_path):
    """Run, summary, save, compare and sweep, exactly as the README shows them, from a project folder."""
    (block,) = python_blocks()
    for folder in ("scenarios", "seeds"):
        (tmp_path / folder).symlink_to(ROOT / folder, target_is_directory=True)
    check = block + '''
assert summary.countries["JP"].weeks_to_shortfall > 0 and summary.prices["Dy"].peak_multiple > 1
assert sim.Summary.from_dict(summary.to_dict()) == summary
assert {"japan_ban", "korea_route"} <= set(comparison.table.columns)
assert list(swept.table["stockpiles.JP.days"]) == [30, 60, 90, 180]
'''
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-c", check], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    for written in ("results/mine/summary.json", "results/mine/report.html", "results/jb_vs_kr/table.csv",
                    "results/jp_stockpile/table.csv"):
        assert (tmp_path / written).is_file(), written
