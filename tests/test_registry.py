"""The seeds/ registry: every cited source exists, every article figure is used or marked context."""
import re
from pathlib import Path

import pytest

from sim.scenario.loading import read_scenario
from sim.scenario.registry import load_registry

from .conftest import ROOT, SCENARIOS, SEEDS

SHARED_SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.fixture(scope="module")
def registry():
    return load_registry(SEEDS)


def cited_sources(data, path=()):
    """Every string under a 'source' key of a scenario's plain data, with its key path."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("source", "switching_source"):
                for s in [value] if isinstance(value, str) else value:
                    yield path + (key,), s
            else:
                yield from cited_sources(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from cited_sources(value, path + (i,))


def scenario_files():
    return sorted(SCENARIOS.glob("*.yaml"))


def test_every_figure_has_an_id_a_kind_a_text_and_a_use(registry):
    for fig in registry.figures.values():
        assert re.fullmatch(r"[a-z0-9_]+", fig.id)
        assert fig.kind in {"article", "event", "public", "assumption"}, fig.id
        assert fig.text and fig.use.split(":")[0] in {"calibration", "validation", "baseline", "scenario", "context",
                                                      "model"}, fig.id


def test_article_figures_cite_an_article_of_the_list(registry):
    for fig in registry.figures.values():
        if fig.kind in ("article", "event"):
            assert fig.source and all(s in registry.articles for s in fig.source), fig.id


def test_the_article_list_matches_the_articles_on_disk(registry):
    if not SHARED_SEEDS.is_dir():
        pytest.skip("shared/seeds is not beside this checkout")
    assert set(registry.articles) == {p.name for p in SHARED_SEEDS.glob("*.txt")}


def test_every_source_cited_by_a_scenario_is_in_the_registry_or_a_publication(registry):
    bad = [(f.name, p, s) for f in scenario_files() for p, s in cited_sources(read_scenario(f).data)
           if not registry.is_citation(s)]
    assert bad == []


def test_every_article_figure_is_used_or_marked_context(registry):
    """Used means cited by a scenario, a back-test target, or checked by a test; else its use says
    'context:' and why."""
    cited = {s for f in scenario_files() for _, s in cited_sources(read_scenario(f).data)}
    test_text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py")
                          if p.name != Path(__file__).name)
    unused = []
    for fig in registry.figures.values():
        if fig.kind not in ("article", "event") or fig.id.startswith("mech_"):
            continue
        if fig.context_only:
            assert len(fig.use) > len("context: ") + 10, f"{fig.id}: say why it is context only"
            continue
        if fig.id not in cited and fig.target is None and f'"{fig.id}"' not in test_text:
            unused.append(fig.id)
    assert unused == []


def test_every_assumption_states_its_basis():
    import yaml
    for raw in yaml.safe_load((SEEDS / "assumptions.yaml").read_text(encoding="utf-8")):
        assert raw["kind"] == "assumption" and len(raw.get("basis", "")) > 20, raw["id"]


# ---------------------------------------------------------------- rules and targets
def targets(registry):
    return {fid: fig for fid, fig in registry.figures.items() if fig.target is not None}


def test_no_figure_is_both_an_input_of_a_scenario_and_a_target(registry):
    """A target is never cited as a source of a scenario: a parameter fitted to it cites the assumption
    that was fitted (and says so in its fitted_to)."""
    both = [(f.name, p, s) for f in scenario_files() for p, s in cited_sources(read_scenario(f).data)
            if s in targets(registry)]
    assert both == []


def test_a_validation_target_was_fitted_to_by_nothing(registry):
    fitted = {t for fig in registry.figures.values() for t in fig.fitted_to}
    assert {t for t, fig in targets(registry).items() if fig.target.get("kind") == "validation"} & fitted == set()


def test_what_an_assumption_was_fitted_to_is_a_calibration_target(registry):
    for fig in registry.figures.values():
        for t in fig.fitted_to:
            assert t in targets(registry) and registry[t].target.get("kind") == "calibration", (fig.id, t)


def test_a_target_says_in_its_use_which_kind_it_is(registry):
    for fid, fig in targets(registry).items():
        assert fig.use.startswith(fig.target.get("kind") + ":"), fid


def test_a_figure_marked_as_a_target_has_a_target_block(registry):
    """'calibration:' and 'validation:' mark outcomes the back-test reads; a rule says 'baseline:' or 'scenario:'."""
    unmarked = [fid for fid, fig in registry.figures.items()
                if fig.use.split(":")[0] in ("calibration", "validation") and fig.target is None]
    assert unmarked == []


def test_an_assumption_built_on_a_calibration_target_says_it_was_fitted_to_it(registry):
    calibration = {t for t, fig in targets(registry).items() if fig.target.get("kind") == "calibration"}
    import yaml
    unsaid = []
    for raw in yaml.safe_load((SEEDS / "assumptions.yaml").read_text(encoding="utf-8")):
        named = set(re.findall(r"[a-z0-9_]+", raw.get("basis", ""))) & calibration
        unsaid += [(raw["id"], t) for t in sorted(named - set(raw.get("fitted_to") or ()))]
    assert unsaid == []
