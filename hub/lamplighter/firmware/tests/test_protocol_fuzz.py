"""Fuzzing the protocol parser (CPython only; hypothesis): any input ends in a message or a ProtocolError.

The parser is the first thing every untrusted byte meets on both hub and device, so it must
never raise anything else, and whatever it accepts must be safe to use as documented.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .. import protocol
from .support import load_sample_json

FUZZ_SETTINGS = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=30,
)
known_types = st.sampled_from(protocol.DEVICE_MESSAGE_TYPES + protocol.HUB_MESSAGE_TYPES)


def parse_or_reject(raw: "str | bytes") -> "dict | None":
    try:
        return protocol.parse(raw)
    except protocol.ProtocolError as error:
        assert isinstance(error.code, str) and error.code
        assert isinstance(error.reason, str) and len(error.reason) < 400
        return None


def assert_usable(message: dict) -> None:
    """What the hub and the firmware rely on after a successful parse."""
    assert message["v"] == protocol.PROTOCOL_VERSION
    for entry in message["data"].get("lights", []):
        assert isinstance(entry["room"], str) and isinstance(entry["light"], str)
        assert isinstance(entry["state"]["on"], bool)
        assert isinstance(entry["version"], int) and not isinstance(entry["version"], bool)
        assert entry["version"] >= 0
        protocol.classify_report(0, entry)


@FUZZ_SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes(raw: bytes) -> None:
    message = parse_or_reject(raw)
    if message is not None:
        assert_usable(message)


@FUZZ_SETTINGS
@given(json_values)
def test_random_json(value: object) -> None:
    message = parse_or_reject(json.dumps(value))
    if message is not None:
        assert_usable(message)


@FUZZ_SETTINGS
@given(known_types, st.dictionaries(st.text(max_size=20), json_values, max_size=8), st.one_of(st.none(), json_values))
def test_envelopes_with_random_data(message_type: str, data: dict, message_id: object) -> None:
    envelope = {"v": 1, "type": message_type, "data": data, "id": message_id}
    message = parse_or_reject(json.dumps(envelope))
    if message is not None:
        assert_usable(message)


@FUZZ_SETTINGS
@given(known_types, st.data())
def test_mutated_golden_samples(message_type: str, data: st.DataObject) -> None:
    """Start from a valid message and replace one field anywhere in it with junk."""
    message = load_sample_json(message_type)
    paths = list(_paths(message))
    path = data.draw(st.sampled_from(paths))
    _set(message, path, data.draw(json_values))
    parsed = parse_or_reject(json.dumps(message))
    if parsed is not None:
        assert_usable(parsed)


def test_oversized_is_rejected_before_decoding() -> None:
    raw = json.dumps({"v": 1, "type": protocol.HEARTBEAT_PING, "data": {"pad": "x" * protocol.MAX_MESSAGE_BYTES}})
    assert parse_or_reject(raw) is None


def _paths(value: object, prefix: tuple = ()) -> "list[tuple]":
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, prefix + (index,))
    return found


def _set(root: object, path: tuple, value: object) -> None:
    for step in path[:-1]:
        root = root[step]  # type: ignore[index]
    root[path[-1]] = value  # type: ignore[index]
