"""Hypothesis throws junk at PrinterState: it never raises, stays bounded and consistent.

Over 10,000 generated deltas in total (random JSON trees, wrong types at every key the views
read, real capture fragments with one value replaced, huge strings and lists), plus malformed
top-level payloads. After every delta the merged state must still be a JSON mapping within
the size limits, every view must compute, and every cached view must equal a view rebuilt
from scratch (so no view can miss a change).
"""

import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.bambu_printer.printer import state as state_module
from custom_components.bambu_printer.printer.state import (
    MAX_LIST,
    MAX_STRING,
    VIEW_NAMES,
    PrinterState,
)
from tests.captures import CAPTURE_NAMES, pushall_report, version_report

VIEWS = VIEW_NAMES
DELTAS_PER_EXAMPLE = 25
EXAMPLES = 400  # 400 x 25 = 10,000 deltas

HUGE_STRING = "h" * (MAX_STRING + 1)
HUGE_LIST = list(range(MAX_LIST + 1))

KEYS = ["id", "tray", "ams", "temp", "info", "state", "mode", "node", "", "x", "0"]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["", "0", "-1", "255", "254", "1.5", "-48dBm", "FFFFFFFF", "RUNNING", "nan"])
)
# Huge values are drawn by name and built once: their repr would flood failure reports.
huge = st.sampled_from(["huge string", "huge list"]).map(
    lambda kind: HUGE_STRING if kind == "huge string" else HUGE_LIST
)
keys = st.sampled_from(KEYS) | st.text(max_size=4)


def objects(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    # Pairs folded into a dict: duplicate keys collapse instead of being redrawn.
    return st.lists(st.tuples(keys, values), max_size=4).map(dict)


# Hand-rolled nesting (three levels) is much cheaper to draw than st.recursive.
leaves = scalars | huge
level1 = st.lists(leaves, max_size=4) | objects(leaves)
level2 = st.lists(leaves | level1, max_size=4) | objects(leaves | level1)
json_trees = leaves | level1 | level2


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value in a capture (dict keys and list indexes)."""
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


BASES = {name: pushall_report(name)["print"] for name in CAPTURE_NAMES}
PATHS = sorted(
    {(name, path) for name, base in BASES.items() for path in _paths(base)},
    key=lambda item: (item[0], [str(step) for step in item[1]]),
)
# Keys the views read that captures may lack.
EXTRA_KEYS = ["3D", "vir_slot", "gcode_start_time", "chamber_temper", "print_error", "hms"]


def delta_at(base: Any, path: tuple[Any, ...], value: Any) -> Any:
    """The smallest delta that sets `path` to `value`, as a printer would send it."""
    if not path:
        return value
    step, rest = path[0], path[1:]
    if isinstance(step, int):
        element = base[step]
        inner = delta_at(element, rest, value)
        if isinstance(element, dict) and "id" in element and isinstance(inner, dict):
            return [{"id": element["id"], **inner}]  # element-wise list: only this element
        replaced = list(base)
        replaced[step] = inner
        return replaced  # other lists are sent whole
    return {step: delta_at(base[step], rest, value)}


@st.composite
def deltas(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.integers(min_value=0, max_value=3))
    if kind == 0:  # a real field, wrong type or junk
        name, path = draw(st.sampled_from(PATHS))
        body = delta_at(BASES[name], path, draw(json_trees))
    elif kind == 1:  # a random tree of keys
        body = draw(objects(json_trees))
    elif kind == 2:  # keys the views read, anything as value
        view_keys = st.sampled_from([*sorted({p[0] for _, p in PATHS}), *EXTRA_KEYS])
        body = draw(st.lists(st.tuples(view_keys, json_trees), max_size=6).map(dict))
    else:  # an AMS-shaped delta with junk inside
        units = st.lists(
            st.fixed_dictionaries(
                {"id": st.sampled_from(["0", "1", "2", "128", 3, None, "x"])},
                optional={
                    "tray": st.lists(
                        st.fixed_dictionaries(
                            {"id": st.sampled_from(["0", "1", "2", "3", 1, None])},
                            optional={
                                "tray_type": json_trees,
                                "tray_color": json_trees,
                                "remain": json_trees,
                                "cols": json_trees,
                            },
                        )
                        | json_trees,
                        max_size=5,
                    ),
                    "humidity": json_trees,
                    "temp": json_trees,
                },
            )
            | json_trees,
            max_size=5,
        )
        body = {"ams": {"ams": draw(units), "tray_now": draw(json_trees)}}
    body.setdefault("command", "push_status")
    body["msg"] = draw(st.sampled_from([0, 1, 1, 1, "0", None]))
    return {"print": body}


def check_bounded(node: Any, depth: int = 0) -> None:
    """The merged state is plain JSON within the limits."""
    assert depth <= state_module.MAX_DEPTH + 2
    if isinstance(node, dict):
        assert type(node) is dict
        assert len(node) <= state_module.MAX_KEYS
        for key, value in node.items():
            assert isinstance(key, str)
            check_bounded(value, depth + 1)
    elif isinstance(node, list):
        assert type(node) is list
        assert len(node) <= MAX_LIST
        for value in node:
            check_bounded(value, depth + 1)
    elif isinstance(node, str):
        assert len(node) <= MAX_STRING
    else:
        assert node is None or type(node) in (bool, int, float)


def read_views(state: PrinterState) -> dict[str, Any]:
    return {name: getattr(state, name) for name in VIEWS}


@pytest.fixture(autouse=True)
def _no_unexpected_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """apply() logs an error only for a bug of ours: none may happen."""
    with caplog.at_level(logging.ERROR, logger=state_module.__name__):
        yield
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    capture=st.sampled_from(CAPTURE_NAMES),
    reports=st.lists(deltas(), min_size=DELTAS_PER_EXAMPLE, max_size=DELTAS_PER_EXAMPLE),
)
def test_random_deltas(capture: str, reports: list[dict[str, Any]]) -> None:
    cached = PrinterState()  # reads its views after every report: exercises the caches
    fresh = PrinterState()  # rebuilds every view from scratch: the reference
    for state in (cached, fresh):
        state.apply(pushall_report(capture), now=1.0)
        state.apply(version_report(capture))
    read_views(cached)
    for number, report in enumerate(reports):
        revision = cached.revision
        changed = cached.apply(report, now=float(number))
        assert changed is fresh.apply(report, now=float(number))
        assert cached.revision == revision + (1 if changed else 0)
        views = read_views(cached)
        fresh._drop_view_caches()
        assert views == read_views(fresh)
    assert isinstance(cached.print_data, Mapping)
    check_bounded(dict(cached.print_data))
    json.dumps(dict(cached.print_data))


junk_messages = st.one_of(
    json_trees,
    st.lists(
        st.tuples(st.sampled_from(["print", "info", "system", "pushing"]), json_trees), max_size=3
    ).map(dict),
    st.fixed_dictionaries(
        {
            "info": st.fixed_dictionaries(
                {
                    "command": st.just("get_version"),
                    "module": st.lists(
                        st.lists(
                            st.tuples(
                                st.sampled_from(
                                    ["name", "sw_ver", "hw_ver", "product_name", "project_name"]
                                ),
                                json_trees,
                            )
                        ).map(dict)
                        | json_trees,
                        max_size=6,
                    )
                    | json_trees,
                }
            )
        }
    ),
)


@settings(
    max_examples=1000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(message=junk_messages)
def test_malformed_payloads(message: Any) -> None:
    state = PrinterState()
    state.apply(pushall_report("MOCK-H2D"), now=1.0)
    before = read_views(state)
    changed = state.apply(message)
    after = read_views(state)
    if not changed:
        assert after == before
    state._drop_view_caches()
    assert read_views(state) == after
    check_bounded(dict(state.print_data))
    assert state.model is None or state.model.key
