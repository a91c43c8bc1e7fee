"""The briefing (report.html) as a reader sees it: one page that needs nothing outside it, every plot in it,
every source it cites listed with what the registry says, every link landing, and the run's manifest."""
from __future__ import annotations

import base64
import datetime
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sim import load_registry, load_scenario, save, write_report
from sim.cli import main
from sim.engine.simulation import Simulation
from sim.experiments.comparison import compare
from sim.experiments.ensemble import run_ensemble
from sim.report import REPORT
from sim.report.reading import ENSEMBLE_HINT, ensemble_explanation

from .conftest import ROOT, SCENARIOS

PNG_HEADER = b"\x89PNG\r\n\x1a\n"
END = datetime.date(2027, 6, 30)
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = "install Chromium to see the briefing as a browser draws it: apt-get install chromium (Debian/Ubuntu)"


class Page(HTMLParser):
    """The tags of a page with their attributes, the ids it defines, and the text inside each element with an id."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.text_of: dict[str, str] = {}
        self._open: list[str | None] = []
        self.feed(html)

    VOID = ("img", "meta", "br", "hr", "input", "link")        # HTML elements without an end tag

    def handle_starttag(self, tag, attrs):
        attrs = self._record(tag, attrs)
        if tag not in self.VOID:
            self._open.append(attrs.get("id"))

    def handle_startendtag(self, tag, attrs):                   # <line ... />: opened and closed at once
        self._record(tag, attrs)

    def _record(self, tag, attrs) -> dict:
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])
            self.text_of[attrs["id"]] = ""
        return attrs

    def handle_endtag(self, tag):
        if self._open and tag not in self.VOID:
            self._open.pop()

    def handle_data(self, data):
        for element in self._open:
            if element is not None:
                self.text_of[element] += data

    def all(self, name: str) -> list[dict]:
        return [attrs for tag, attrs in self.tags if tag == name]


def read(folder: Path) -> Page:
    return Page((folder / REPORT).read_text(encoding="utf-8"))


def embedded_pngs(page: Page) -> list[bytes]:
    """The bytes of every <img>, each of which must be a PNG data URI."""
    out = []
    for img in page.all("img"):
        head, _, data = img["src"].partition(",")
        assert head == "data:image/png;base64", img["src"][:40]
        out.append(base64.b64decode(data))
    return out


def cited_ids(folder: Path) -> set[str]:
    """Every source id the report cites: its events' (the parameters table's event rows) and its explanations'."""
    index = json.loads((folder / "explain" / "index.json").read_text(encoding="utf-8"))
    rows = [row for run in index["runs"] for row in run["events"]]
    rows += [row for run in index["runs"] for e in run["explanations"] for row in e["cited"]]
    return {s for row in rows for s in str(row.get("source") or "").split()}


def structural_problems(folder: Path) -> list[str]:
    """What a reader would find broken: a picture not embedded, a link outside the page or to nowhere, a source
    cited that the sources do not list with the registry's text."""
    html = (folder / REPORT).read_text(encoding="utf-8")
    page = Page(html)
    problems = []
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            if key in attrs and not attrs[key].startswith(("data:", "#")):
                problems.append(f"<{tag} {key}={attrs[key][:60]}> points outside the page")
        if tag == "link" or (tag == "script" and "src" in attrs):
            problems.append(f"<{tag}> loads a file")
    problems += [f"link to #{a['href'][1:]}, which is nowhere" for a in page.all("a")
                 if a.get("href", "").startswith("#") and a["href"][1:] not in page.ids]
    registry = load_registry()
    for source in sorted(cited_ids(folder)):
        listed = page.text_of.get(f"src-{source}")
        if listed is None:
            problems.append(f"source {source} is not in the sources")
        elif source not in registry:
            problems.append(f"source {source} is not in the registry")
        elif " ".join(registry[source].text.split()) not in " ".join(listed.split()):
            problems.append(f"source {source} is listed without the registry's text")
    return problems


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    """A Japan ban run to mid-2027, saved, with its report."""
    results = Simulation(load_scenario(SCENARIOS / "japan_ban.yaml"), seed=0, end=END).run()
    folder = save(results, tmp_path_factory.mktemp("run") / "japan_ban")
    write_report(folder, SCENARIOS / "japan_ban.yaml")
    return folder


def test_a_run_s_report_is_one_page_that_needs_nothing_outside_it(run_folder):
    """report.html parses as HTML; no source, link or script reaches outside the page; no problem a reader
    would meet (every link lands, every cited source is listed with the registry's text)."""
    html = (run_folder / REPORT).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert "http://" not in html and "https://" not in html
    assert structural_problems(run_folder) == []


def test_every_plot_and_waterfall_is_embedded_as_a_png(run_folder):
    """One <img> per plot of the folder and per waterfall of an explanation, each the PNG's own bytes."""
    page = read(run_folder)
    pictures = embedded_pngs(page)
    plots = sorted((run_folder / "plots").glob("*.png"))
    waterfalls = sorted((run_folder / "explain").glob("*.png"))
    assert plots and waterfalls
    assert len(pictures) == len(plots) + len(waterfalls)
    assert all(p.startswith(PNG_HEADER) for p in pictures)
    assert {p.read_bytes() for p in plots + waterfalls} == set(pictures)


def test_the_report_says_the_question_the_worst_hit_country_why_and_the_manifest(run_folder):
    """The scenario's question (its file's 'Question:'), Japan's explanation with its largest part, the event on
    the timeline, and the manifest's hashes and seed are on the page."""
    page, html = read(run_folder), (run_folder / REPORT).read_text(encoding="utf-8")
    manifest = json.loads((run_folder / "manifest.json").read_text(encoding="utf-8"))
    assert "how long until Japanese magnet makers run short of dysprosium and terbium" in html
    explained = page.text_of["explanations"]
    parts = pd.read_csv(next((run_folder / "explain").glob("JP_*.csv")))
    assert "JP, 2026-01 to 2026-12" in explained and parts["label"].iloc[0] in explained
    assert "cn_japan_dual_use_ban" in page.text_of["events"] and page.all("svg")
    shown = page.text_of["manifest"]
    assert manifest["scenario_sha256"] in shown and manifest["code_sha256"] in shown
    assert f"seed{manifest['seed']}" in shown.replace(" ", "").replace("\n", "")


def test_a_source_the_registry_lacks_is_caught(run_folder, tmp_path):
    """A parameter citing an id that is not in seeds/ makes a structural problem, and the page marks its row."""
    folder = tmp_path / "japan_ban"
    shutil.copytree(run_folder, folder)
    parameters = pd.read_parquet(folder / "tables" / "parameters.parquet")
    parameters.loc[parameters["subject"] == "event", "source"] += " no_such_source"
    parameters.to_parquet(folder / "tables" / "parameters.parquet", index=False)
    write_report(folder)
    assert structural_problems(folder) == ["source no_such_source is not in the registry"]
    assert "NOT IN THE REGISTRY" in read(folder).text_of["src-no_such_source"]


def test_the_command_writes_the_report_with_the_run_and_says_where(tmp_path, capsys):
    """'python -m sim SCENARIO --report' writes report.html inside the results folder and prints its path."""
    out = tmp_path / "jb"
    assert main([str(SCENARIOS / "japan_ban.yaml"), "--end", "2026-06-30", "--out", str(out), "--report"]) == 0
    assert f"report in {out / REPORT}" in capsys.readouterr().out
    assert structural_problems(out) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary folders left behind"


def test_a_comparison_s_report_embeds_its_plots_and_each_run_s_explanation(tmp_path):
    """A comparison's report holds its three plots and each run's worst-hit country's waterfall, both scenarios'
    questions, and no broken reference."""
    result = compare([SCENARIOS / "japan_ban.yaml", SCENARIOS / "korea_route.yaml"], end=END, rerun=True)
    out = result.save(tmp_path / "cmp", extra=write_report)
    page = read(out)
    assert len(embedded_pngs(page)) == len(list((out / "plots").glob("*.png"))) + 2
    assert "japan_ban: JP" in page.text_of["explanations"] and "korea_route: JP" in page.text_of["explanations"]
    assert "direct route recover" in page.text_of["top"]
    assert structural_problems(out) == []


def test_a_sweep_s_report_embeds_its_plots(tmp_path, capsys):
    """'python -m sim sweep ... --report' writes the report with the sweep: its plots and one waterfall per value."""
    out = tmp_path / "swp"
    assert main(["sweep", str(SCENARIOS / "japan_ban.yaml"), "--set", "stockpiles.JP.days=30,90", "--end", str(END),
                 "--out", str(out), "--report", "--quiet"]) == 0
    page = read(out)
    assert len(embedded_pngs(page)) == len(list((out / "plots").glob("*.png"))) + 2
    assert "stockpiles.JP.days" in page.text_of["top"] and structural_problems(out) == []


def test_an_ensemble_s_report_embeds_its_band_plots_and_says_how_to_explain_it(tmp_path):
    """An ensemble's report holds its band plots and its headline bands; explained by the ensemble's own parts
    where that exists, else it says which command explains it."""
    scenario = load_scenario(SCENARIOS / "japan_ban_uncertain.yaml")
    ensemble = run_ensemble(scenario, 2, tmp_path / "ens", end=END, workers=1)
    ensemble.plot()
    write_report(ensemble.folder, SCENARIOS / "japan_ban_uncertain.yaml")
    page = read(ensemble.folder)
    plots = list((ensemble.folder / "plots").glob("*.png"))
    assert plots and len(embedded_pngs(page)) == len(plots)
    assert "P50" in page.text_of["headline"] and "ban_read_as_defence_only" in page.text_of["events"]
    if ensemble_explanation(ensemble.folder, "JP") is None:
        assert ENSEMBLE_HINT in page.text_of["explanations"]


def test_an_ensemble_explanation_is_none_until_the_code_for_it_is_there(tmp_path, monkeypatch):
    """Where ``explain_ensemble`` does not exist (yet), the report's hook gives None rather than failing."""
    import sim.experiments.ensemble as ensemble

    monkeypatch.delattr(ensemble, "explain_ensemble", raising=False)
    assert ensemble_explanation(tmp_path, "JP") is None


@pytest.mark.parametrize("make", ["missing", "empty", "other"])
def test_a_folder_without_results_gets_one_line_and_exit_2(tmp_path, capsys, make):
    """'python -m sim report DIR' on a missing folder, an empty one or another kind's: exit 2, one line, no trace."""
    folder = tmp_path / "results"
    if make != "missing":
        folder.mkdir()
    if make == "other":
        (folder / "manifest.json").write_text('{"kind": "backtest"}')
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m sim report: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and not (folder / REPORT).exists()


def test_chromium_draws_the_report(run_folder, tmp_path):
    """Headless Chromium opens the report and draws it: a screenshot of some size (skipped without Chromium)."""
    browser = next((b for b in (shutil.which(name) for name in CHROMIUM) if b), None)
    if browser is None:
        pytest.skip(INSTALL_HINT)
    shot = tmp_path / "briefing.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=1280,2000", (run_folder / REPORT).as_uri()],
                   cwd=tmp_path, capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.read_bytes().startswith(PNG_HEADER)
    assert shot.stat().st_size > 30_000        # a page drawn, not a blank one


def test_the_readme_shows_a_briefing():
    """The README's Briefing section shows the screenshot of a report, which is in docs/."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Briefing" in readme and "docs/briefing.png" in readme
    assert (ROOT / "docs" / "briefing.png").read_bytes().startswith(PNG_HEADER)
