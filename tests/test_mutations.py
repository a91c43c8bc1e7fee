"""Property: whatever is done to a valid scenario, the loader answers with a Scenario or a ScenarioError."""
import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.scenario.loading import load_scenario

from .conftest import MINIMAL

BASE = yaml.safe_load(MINIMAL)

junk = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                 st.text(max_size=8), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
                 st.sampled_from(["2026-13-45", "CN", "JP", "all", "Dy", "export_ban", "-1", {"dist": "normal"}]))


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


ALL_PATHS = [p for p in paths(BASE) if p]


@st.composite
def mutated(draw):
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "delete", "rename"]))
            if action == "replace":
                parent[path[-1]] = draw(junk)
            elif action == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            elif action == "rename" and isinstance(parent, dict):
                parent[str(path[-1]) + draw(st.text(min_size=1, max_size=2))] = parent.pop(path[-1])
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed or replaced the way there
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated())
def test_random_mutations_only_ever_raise_scenario_error(write, data):
    path = write(yaml.safe_dump(data, allow_unicode=True))
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
