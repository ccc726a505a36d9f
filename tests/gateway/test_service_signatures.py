"""Services take the database session first and their collaborators by keyword (issue 12).

A collaborator is a long-lived object a service works through: the vault, the connector
pool, the shared cache, an executor or a clock. Passed positionally, two of them can be
swapped without a type error where both are loosely typed; by keyword the call says which.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "gateway" / "services"
COLLABORATORS = frozenset({"Vault", "ConnectorPool", "Cache", "ThreadPoolExecutor", "Clock"})


def violations(source: str, name: str) -> list[str]:
    """Return where a public function or method of this module breaks the rule."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        if node.name.startswith("_") and node.name != "__init__":
            continue
        positional = [a for a in node.args.posonlyargs + node.args.args if a.arg != "self"]
        positional = [a for a in positional if a.arg != "cls"]
        for index, arg in enumerate(positional):
            annotation = ast.unparse(arg.annotation) if arg.annotation else ""
            kind = annotation.split("[")[0].removesuffix(" | None")
            if kind in COLLABORATORS or kind.startswith("Callable"):
                found.append(f"{name}:{node.lineno} {node.name}: {arg.arg} by keyword")
            if kind == "Session" and index != 0:
                found.append(f"{name}:{node.lineno} {node.name}: the session first")
    return found


def test_every_service_takes_the_session_first_and_collaborators_by_keyword() -> None:
    broken = [
        problem
        for module in sorted(SERVICES.glob("*.py"))
        for problem in violations(module.read_text(), module.name)
    ]
    assert broken == []


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def seal(vault: Vault, path: str) -> str: ...", "seal: vault by keyword"),
        ("def read(user: User, session: Session) -> None: ...", "read: the session first"),
        (
            "class A:\n    def __init__(self, refresh: Callable[[], None]) -> None: ...",
            "__init__: refresh by keyword",
        ),
        ("def offers(pool: ConnectorPool | None, x: int) -> None: ...", "offers: pool by keyword"),
    ],
)
def test_the_rule_sees_a_positional_collaborator(source: str, problem: str) -> None:
    assert [p.split(" ", 1)[1] for p in violations(source, "m.py")] == [problem]


def test_the_rule_accepts_keyword_collaborators() -> None:
    source = "def seal(session: Session, path: str, *, vault: Vault, now: Clock) -> str: ..."
    assert violations(source, "m.py") == []
