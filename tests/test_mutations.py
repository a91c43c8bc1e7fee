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


# ---------------------------------------------------------------- byte level: what a broken editor or disk does
# (benchmarks/fuzz_loader.py runs ten thousand of these on every shipped scenario; CI runs a few hundred here)
MINIMAL_BYTES = MINIMAL.encode()
CONTROL = [bytes([c]) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]] + \
    [chr(c).encode() for c in range(0x80, 0xA0)] + [bytes([c]) for c in range(0x80, 0xA0)]
HOSTILE = [b"{true: 1, a: 2}", b'"\\0"', b'"\\ud800"', b"a" * 300, b"9" * 400, b"[", b"&a [*a]", b"*nowhere",
           b"!!python/object/apply:os.system ['true']", b"1e999", b".nan", b"2026-02-30", b"{dist: normal}"]
EXTENDS = [b'extends: "s\\0.yaml"', b'extends: "\\ud800.yaml"', b"extends: " + b"x" * 300 + b".yaml",
           b"extends: .", b"extends: [a]"]


@st.composite
def mutated_bytes(draw):
    data = MINIMAL_BYTES
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "control", "truncate", "delete", "insert", "value", "extends"]))
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and data:
            i = min(at, len(data) - 1)
            data = data[:i] + bytes([data[i] ^ (1 << draw(st.integers(0, 7)))]) + data[i + 1:]
        elif kind == "control":
            data = data[:at] + draw(st.sampled_from(CONTROL)) + data[at:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 30)):]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
        elif kind == "value":
            colon = data.find(b": ", at)
            end = data.find(b"\n", colon) if colon >= 0 else -1
            if end > colon >= 0:
                data = data[:colon + 2] + draw(st.sampled_from(HOSTILE)) + data[end:]
        else:
            data = draw(st.sampled_from(EXTENDS)) + b"\n" + data
    return data


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=mutated_bytes())
def test_byte_level_mutations_only_ever_raise_scenario_error(tmp_path, data):
    path = tmp_path / "s.yaml"
    path.write_bytes(data)
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems and all(p.message and p.file == str(path) for p in exc.problems)
