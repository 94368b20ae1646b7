"""Property: whatever a request body holds, the models answer with a `ValidationError` or a valid request.

Bodies are valid ones (from `wire_bodies`) broken a few ways at once: values replaced by
wrong types, huge or non-ASCII-digit numbers, bytes, lone surrogates, deep nesting; keys
deleted or added (empty, dotted, surrogate, non-string). Every request model is tried for
both API versions, strict and lenient. Examples are derandomized and no database is kept,
so CI runs exactly the same cases every time.

What is checked: the only exception is `rtcsnap.errors.ValidationError`; each of its
errors has a rule in our words (no Python exception text) and, for an object body, a path;
only lenient mode warns, and only `RtcSnapLenientWarning`; an accepted request dumps to
JSON whose numbers are int32 and parses back to itself; and strict mode accepts a value
only as JSON gives it (no bytes, booleans or floats for ints, no non-ASCII digits).
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rtcsnap.errors import ValidationError
from rtcsnap.models import (
    GetSnapshotTaskRequest,
    RequestModel,
    RtcSnapLenientWarning,
    StartSnapshotRequest,
    StopSnapshotRequest,
    UpdateSnapshotRequest,
)

from tests.models.wire_bodies import custom_body, tos_body, veimagex_body

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
PYTHON_TEXT = ("invalid literal", "Exceeds the limit", "Traceback", "object has no attribute", "Value error")
VERSIONS = ["2022-06-01", "2023-11-01"]

FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Path = tuple[Any, ...]


@pytest.fixture(autouse=True, scope="module")
def _no_local_constants() -> Iterator[None]:
    """Generate from our strategies alone, not from literals hypothesis harvests from loaded modules.

    Hypothesis mixes in constants found in the project's imported modules, re-harvested
    whenever `sys.modules` grows. In the full suite a background thread (an emulator server)
    may import a module mid-test, which changes generation between runs of one example
    (`FlakyStrategyDefinition`) and makes the examples depend on which tests ran first.
    With an empty pool the examples are the same whatever else runs. (Internal API: if it
    moves, this does nothing and the tests still run.)
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:
        yield
        return
    if not (hasattr(providers, "_get_local_constants") and hasattr(providers, "CONSTANTS_CACHE")):
        yield
        return
    empty = Constants()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(providers, "_get_local_constants", lambda: empty)
        providers.CONSTANTS_CACHE.cache.clear()  # it holds pools computed from the real constants
        yield
    providers.CONSTANTS_CACHE.cache.clear()


def _task_key() -> dict[str, Any]:
    return {"AppId": "app1", "RoomId": "room1", "TaskId": "task1"}


BODIES: dict[type[RequestModel], list[Callable[[], dict[str, Any]]]] = {
    StartSnapshotRequest: [
        tos_body,
        custom_body,
        veimagex_body,
        lambda: custom_body(vendor=1, region="cn-shanghai"),
    ],
    UpdateSnapshotRequest: [lambda: {**_task_key(), "BusinessId": "biz", "ImageConfig": {"Interval": 5}}],
    StopSnapshotRequest: [lambda: {**_task_key(), "BusinessId": "biz"}],
    GetSnapshotTaskRequest: [_task_key],
}

# Values that broke (or nearly broke) the models once: int edges, non-ASCII digits, text that is not UTF-8.
TRICKY: list[Any] = [
    *(0, -1, 1, 2, 3, 600, 601, 1920, 86400, 86401),
    *(INT32_MAX, INT32_MAX + 1, INT32_MIN, INT32_MIN - 1, 2**32 - 1, 2**32, 2**63, 10**30),
    *(True, False, None, 1.0, 2.5, -0.0, float("nan"), float("inf")),
    *("", " ", "3", " 2 ", "-5", "+3", "3.0", "1e3", "0x10", "9" * 10, "1" * 5000),
    *("１", "٣", "²", "ⅳ", "\u212aodo", "ＰＮＧ", "\ud800", "ab\udc80", "用户", "a" * 200),
    *("png", "JPG", "screen", "custom", "oss-cn-hangzhou", "cn-beijing", "us-east-1", "ap-singapore-1"),
    *(b"abc", bytearray(b"abc"), b"", [], {}, [1, 2], {"x": 1}),
]
ODD_KEYS: list[Any] = [
    "",
    "\ud800",
    "a.b",
    "[0]",
    "x" * 300,
    " AppId",
    "appid",
    "Foo",
    "api_version",
    5,
    None,
    1.5,
]

KEYS: st.SearchStrategy[Any] = st.one_of(st.sampled_from(ODD_KEYS), st.text(max_size=12))

SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(TRICKY),
    st.integers(4301, 4400).map(lambda digits: 10**digits),  # str() of these raises ValueError
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.text(st.characters(codec="utf-8", categories=["Nd", "No"]), min_size=1, max_size=4),  # any digit
    st.binary(max_size=8),
)

# Built once: hypothesis validates a strategy on first use, which costs more than drawing from it.
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
# Mostly single odd scalars: a body broken in one place shows whether that one value is judged right.
REPLACEMENTS: st.SearchStrategy[Any] = st.one_of(st.sampled_from(TRICKY), SCALARS, VALUES)


def _nested(value: Any, depth: int, *, as_list: bool) -> Any:
    for _ in range(depth):
        value = [value] if as_list else {"k": value}
    return value


def _paths(node: Any, prefix: Path = ()) -> list[Path]:
    """Every place in `node` (the root, containers, leaves) down to 8 levels: enough to reach every field."""
    out = [prefix]
    if len(prefix) >= 8:
        return out
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _get(body: Any, path: Path) -> Any:
    node = body
    for part in path:
        node = node[part]
    return node


@st.composite
def broken_bodies(draw: st.DrawFn, model: type[RequestModel], deepest: int = 5000) -> dict[str, Any]:
    """A valid body of `model` broken one to three ways; deep nesting at most once, `deepest` levels
    at most. (Hypothesis raises the recursion limit while a test runs, so only thousands of
    levels reach it: the original models crashed from about 500.)"""
    body: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(BODIES[model]))())
    ops = ["replace", "replace", "replace", "delete", "add", "nest"]
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        path = draw(st.sampled_from(_paths(body)))
        op = draw(st.sampled_from(ops)) if path else "add"
        # copies: TRICKY holds mutable values, and a later "add" must not edit the constant
        if op == "add":
            holder = _get(body, path)
            if isinstance(holder, dict):
                holder[draw(KEYS)] = copy.deepcopy(draw(VALUES))
            continue
        parent = _get(body, path[:-1])
        if op == "delete":
            del parent[path[-1]]
        elif op == "nest":
            ops.remove("nest")
            depth = draw(st.sampled_from([d for d in (1, 31, 32, 33, 600, deepest, deepest) if d <= deepest]))
            parent[path[-1]] = _nested(parent[path[-1]], depth, as_list=draw(st.booleans()))
        else:
            parent[path[-1]] = copy.deepcopy(draw(REPLACEMENTS))
    return body


def _numbers(node: Any) -> Iterator[Any]:
    """Every number in a to_wire() dict (bools included, so that one sneaking in is caught)."""
    if isinstance(node, dict):
        for v in node.values():
            yield from _numbers(v)
    elif isinstance(node, list):
        for v in node:
            yield from _numbers(v)
    elif isinstance(node, int | float):
        yield node


def _as_json_gives_it(given: Any, wire: Any, where: Path = ()) -> None:
    """A strictly accepted value came from JSON and is unchanged in kind: compare input and output.

    Both are wire-keyed dicts, so a field sits at the same path in each (names and ASCII
    decimal strings for coded fields are the documented exception: they become ints).
    """
    if isinstance(wire, dict) and isinstance(given, dict):
        for key, value in wire.items():
            if key in given:
                _as_json_gives_it(given[key], value, (*where, key))
    elif isinstance(wire, list) and isinstance(given, list):
        for i, (a, b) in enumerate(zip(given, wire, strict=False)):
            _as_json_gives_it(a, b, (*where, i))
    elif isinstance(wire, int):
        assert type(given) is int or (isinstance(given, str) and given.isascii()), (where, given)
    elif isinstance(wire, str):
        assert type(given) is str, (where, given)


def _check_error(err: ValidationError, *, object_body: bool) -> None:
    assert err.errors, "a ValidationError must name at least one broken rule"
    for fe in err.errors:
        assert isinstance(fe.path, str) and isinstance(fe.rule, str)
        assert fe.rule.strip(), err.errors
        assert not any(text in fe.rule for text in PYTHON_TEXT), fe
        assert fe.path or not object_body, err.errors  # an object body's errors name where
        (fe.path + fe.rule).encode("utf-8")  # printable, loggable, sendable in a JSON body


def _check_accepted(req: RequestModel, parse: Callable[[dict[str, Any]], RequestModel]) -> None:
    wire = req.to_wire()
    text = json.dumps(wire, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")
    json.dumps(req.to_wire(mask_secrets=True), allow_nan=False)
    for number in _numbers(wire):
        assert type(number) is int, wire
        assert INT32_MIN <= number <= INT32_MAX, wire
    assert parse(json.loads(text)).to_wire() == wire  # what was accepted is stable


def _run(
    parse: Callable[[], RequestModel],
    reparse: Callable[[dict[str, Any]], RequestModel],
    *,
    lenient: bool,
    body: Any = None,
) -> None:
    """`parse()` must fail as a ValidationError or give a request that survives `_check_accepted`.

    `body` (the input, when it is a dict) adds the strict-mode checks against the input.
    """
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            req = parse()
        except ValidationError as err:
            _check_error(err, object_body=isinstance(body, dict))
        else:
            _check_accepted(req, reparse)
            if body is not None and not lenient:
                _as_json_gives_it(body, req.to_wire())
    # A ResourceWarning is the garbage collector finalising some earlier test's object while this
    # one runs (an SDK's socket): not the models' doing, whatever it says.
    seen = [w for w in seen if not issubclass(w.category, ResourceWarning)]
    assert all(issubclass(w.category, RtcSnapLenientWarning) for w in seen), [str(w.message) for w in seen]
    assert lenient or not seen  # strict mode never repairs, so it never warns


def _check_from_wire(model: type[RequestModel], body: Any, version: str, lenient: bool) -> None:
    _run(
        lambda: model.from_wire(body, version=version, lenient=lenient),
        lambda wire: model.from_wire(wire, version=version, lenient=lenient),
        lenient=lenient,
        body=body,
    )


def _fuzz_model(model: type[RequestModel]) -> Callable[..., None]:
    @FUZZ
    @given(data=st.data())
    def test(data: st.DataObject) -> None:
        body = data.draw(broken_bodies(model), label="body")
        version = data.draw(st.sampled_from(VERSIONS), label="version")
        lenient = data.draw(st.booleans(), label="lenient")
        _check_from_wire(model, body, version, lenient)

    test.__doc__ = f"{model.__name__}: broken valid bodies, both versions, both modes."
    return test


test_start_snapshot_bodies = _fuzz_model(StartSnapshotRequest)
test_update_snapshot_bodies = _fuzz_model(UpdateSnapshotRequest)
test_stop_snapshot_bodies = _fuzz_model(StopSnapshotRequest)
test_get_snapshot_task_queries = _fuzz_model(GetSnapshotTaskRequest)


@FUZZ
@given(
    model=st.sampled_from(list(BODIES)),
    body=VALUES,
    version=st.sampled_from(VERSIONS),
    lenient=st.booleans(),
)
def test_arbitrary_values_as_bodies(
    model: type[RequestModel], body: Any, version: str, lenient: bool
) -> None:
    """Not even an object: lists, scalars and random dicts are errors like any other."""
    _check_from_wire(model, body, version, lenient)


_HUGE = "<huge integer>"


def _huge_ints_marked(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _huge_ints_marked(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_huge_ints_marked(v) for v in node]
    return _HUGE if isinstance(node, int) and node.bit_length() > 4000 else node


@st.composite
def raw_json(draw: st.DrawFn) -> str | bytes:
    """JSON text of a broken StartSnapshot body, sometimes cut, padded or made deep, as str or bytes."""
    body = draw(broken_bodies(StartSnapshotRequest, deepest=600))  # json.dumps recurses too
    text = json.dumps(_huge_ints_marked(body), default=repr)
    text = text.replace(f'"{_HUGE}"', "1" * 5000)  # json.dumps cannot write such a literal itself
    cut = draw(st.sampled_from(["none", "none", "truncate", "open", "junk"]))
    if cut == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif cut == "open":
        text = "[" * draw(st.sampled_from([31, 32, 33, 1000, 30_000])) + text
    elif cut == "junk":
        text = text + draw(st.text(max_size=8))
    if draw(st.booleans()):
        return text
    raw = text.encode("utf-8", "surrogatepass")
    return raw + draw(st.binary(max_size=3)) if draw(st.booleans()) else raw


@FUZZ
@given(raw=raw_json(), lenient=st.booleans())
def test_raw_json_bodies(raw: str | bytes, lenient: bool) -> None:
    _run(
        lambda: StartSnapshotRequest.model_validate_json(raw, context={"lenient": lenient}),
        lambda wire: StartSnapshotRequest.from_wire(wire, lenient=lenient),
        lenient=lenient,
    )


@pytest.mark.parametrize("model", list(BODIES))
def test_every_tricky_value_in_every_place(model: type[RequestModel]) -> None:
    """Exhaustive where hypothesis samples: each `TRICKY` value (and a huge int) put in each
    place of each valid body, alone, for both versions and both modes."""
    values = [*TRICKY, 10**4400]
    for make in BODIES[model]:
        base = make()
        for path in _paths(base)[1:]:
            for value in values:
                body = copy.deepcopy(base)
                _get(body, path[:-1])[path[-1]] = copy.deepcopy(value)
                for version in VERSIONS:
                    for lenient in (False, True):
                        _check_from_wire(model, body, version, lenient)


@pytest.mark.parametrize("model", list(BODIES))
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("lenient", [False, True])
def test_the_seed_bodies_are_valid(model: type[RequestModel], version: str, lenient: bool) -> None:
    """The fuzzers start from valid bodies; if these broke, every example would be an error."""
    for make in BODIES[model]:
        req = model.from_wire(make(), version=version, lenient=lenient)
        _check_accepted(req, lambda wire: model.from_wire(wire, version=version, lenient=lenient))
