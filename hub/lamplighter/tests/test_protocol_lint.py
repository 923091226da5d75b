"""The protocol is defined in one place: no message-type string literal outside hub/lamplighter/firmware/protocol/."""

import re
from pathlib import Path

from lamplighter.firmware import protocol

ROOT = Path(__file__).resolve().parents[3]
MESSAGE_TYPES = protocol.DEVICE_MESSAGE_TYPES + protocol.HUB_MESSAGE_TYPES
LITERAL = re.compile("[\"'](" + "|".join(re.escape(t) for t in MESSAGE_TYPES) + ")[\"']")


def test_message_types_are_only_spelled_in_the_protocol_module() -> None:
    offenders = []
    for folder in ("hub",):
        for path in (ROOT / folder).rglob("*"):
            if (
                path.suffix not in (".py", ".js", ".html")
                or "tests" in path.parts
                or "node_modules" in path.parts
            ):
                continue
            if path.parent == ROOT / "hub" / "lamplighter" / "firmware" / "protocol":
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if LITERAL.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "use the constants in hub/lamplighter/firmware/protocol/:\n" + "\n".join(offenders)


def test_the_lint_sees_a_literal() -> None:
    """The check itself works: a line spelling a type is caught."""
    assert LITERAL.search('kind = "state.set"')
    assert not LITERAL.search("kind = protocol.STATE_SET")
