"""The layering rules of docs/architecture.md, checked by reading every import with ``ast``.

Module-level, typing-only and function-local imports are all read, so no rule can be kept by
hiding an import inside a function. Known debt is listed by name with its reason; the test
fails on any new violation and on any entry the code no longer needs, so the list only
shrinks.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Read for the rules; tests, bench and scripts are read only for the wiring rule.
LAYERED = ("gateway", "connectors", "regional_mock", "idp_mock")
CALLERS = ("tests", "bench", "scripts")
PROJECT = frozenset((*LAYERED, *CALLERS))

# What a view module may import from the gateway besides its own area and the services.
VIEW_HELPERS = frozenset(
    {
        "gateway.errors",
        "gateway.extensions",
        "gateway.forms",
        "gateway.guards",
        "gateway.labels",
        "gateway.limits",
        "gateway.periods",
        "gateway.runtime",
        "gateway.templating",
    }
)
NOT_AREAS = frozenset({"services", "models", "migrations", "translations"})
SINGLE_MODULE_BLUEPRINTS = frozenset({"gateway.devtools", "gateway.errors"})
FLASK_FAMILY = ("flask", "werkzeug", "authlib.integrations.flask_client")
EMULATORS = ("regional_mock", "idp_mock")

ViolationKey = tuple[str, str, str]  # (rule, importer, imported)

# Exceptions the rules keep for good, each with why.
ALLOWED: Mapping[ViolationKey, str] = {
    ("local", "gateway.wiring", "gateway.devtools"): (
        "a production app never loads the developer pages"
    ),
}

# Known violations, each with its reason. Delete an entry when its import goes: the test
# fails while an entry is no longer needed.
KNOWN_DEBT: Mapping[ViolationKey, str] = {}


@dataclasses.dataclass(frozen=True, slots=True)
class Import:
    """One imported module, as Python resolves it, and where the import stands."""

    target: str
    line: int
    local: bool  # inside a function
    typing_only: bool  # under ``if TYPE_CHECKING:``


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    """A broken rule: who imports what, and the rule's name."""

    rule: str
    importer: str
    imported: str
    line: int = 0

    @property
    def key(self) -> ViolationKey:
        return (self.rule, self.importer, self.imported)


def module_name(path: str) -> str:
    """Name the module a repository-relative path holds (``a/b/__init__.py`` is ``a.b``)."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


class _Reader(ast.NodeVisitor):
    """Collect a module's imports, remembering function and TYPE_CHECKING context."""

    def __init__(self, importer: str, is_package: bool, known: frozenset[str]) -> None:
        self.package = importer if is_package else importer.rpartition(".")[0]
        self.known = known
        self.imports: list[Import] = []
        self._depth = 0
        self._typing = 0

    def _add(self, target: str, line: int) -> None:
        self.imports.append(Import(target, line, self._depth > 0, self._typing > 0))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._typing += 1
        for child in node.body:
            self.visit(child)
        self._typing -= 1
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.package.split(".")
            anchor = ".".join(package[: len(package) - node.level + 1])
            base = f"{anchor}.{base}" if base else anchor
        for alias in node.names:
            # ``from pkg import sub`` imports the submodule; ``from pkg import name``, pkg.
            candidate = f"{base}.{alias.name}"
            self._add(candidate if candidate in self.known else base, node.lineno)


def read_imports(files: Mapping[str, str]) -> dict[str, list[Import]]:
    """Read every import of ``files`` (repository-relative path to source), by module."""
    known = frozenset(module_name(path) for path in files)
    house: dict[str, list[Import]] = {}
    for path, source in files.items():
        name = module_name(path)
        reader = _Reader(name, path.endswith("__init__.py"), known)
        reader.visit(ast.parse(source, filename=path))
        house[name] = reader.imports
    return house


def _under(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _area(module: str) -> str | None:
    """Return the blueprint area a gateway module belongs to (``gateway.auth``), if any."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] == "gateway" and parts[1] not in NOT_AREAS:
        return ".".join(parts[:2])
    return None


def is_view_module(module: str) -> bool:
    """Say whether a module serves pages: an area's modules but its forms, or a lone blueprint."""
    if module in SINGLE_MODULE_BLUEPRINTS:
        return True
    return _area(module) is not None and module.split(".")[-1] != "forms"


def _view_refusal(importer: str, imp: Import) -> bool:
    """Say whether a view module may not make this import (rule a)."""
    target = imp.target
    if _under(target, "sqlalchemy", "gateway.models"):
        return not imp.typing_only  # a type name is not a query
    if _under(target, "connectors"):
        return not _under(target, "connectors.schema")
    if not _under(target, *PROJECT):
        return False  # the standard library, Flask and its friends
    own = _area(importer)
    return not (
        (own is not None and _under(target, own))
        or target in VIEW_HELPERS
        or _under(target, "gateway.services")
    )


def _keyed(target: str) -> str:
    """Name what a view's violation is keyed by: ``sqlalchemy.orm`` counts as sqlalchemy."""
    for package in ("sqlalchemy", "gateway.models"):
        if _under(target, package):
            return package
    return target


def violations(house: Mapping[str, list[Import]]) -> list[Violation]:
    """Return every broken layering rule, one per (rule, importer, imported module)."""
    found: dict[ViolationKey, Violation] = {}

    def add(rule: str, importer: str, imported: str, line: int = 0) -> None:
        found.setdefault((rule, importer, imported), Violation(rule, importer, imported, line))

    for importer, imports in house.items():
        for imp in imports:
            target = imp.target
            if is_view_module(importer) and _view_refusal(importer, imp):
                add("views", importer, _keyed(target), imp.line)
            if _under(target, "gateway.wiring") and importer != "gateway":
                add("wiring", importer, target, imp.line)
            if _under(importer, "gateway.services") and (
                _under(target, *FLASK_FAMILY) or target.startswith("flask_")
            ):
                add("services", importer, target, imp.line)
            if _under(importer, "connectors") and _under(target, "gateway", *EMULATORS):
                add("connectors", importer, target, imp.line)
            if _under(importer, *EMULATORS) and _under(target, "gateway"):
                add("emulators", importer, target, imp.line)
            if _under(importer, "gateway") and _under(target, *EMULATORS):
                add("gateway", importer, target, imp.line)
            if _under(importer, "gateway") and imp.local:
                add("local", importer, target, imp.line)
    for circle in import_cycles(house, "gateway"):
        add("cycle", " -> ".join(circle), "")
    return sorted(found.values(), key=lambda v: v.key)


def import_cycles(house: Mapping[str, list[Import]], package: str) -> list[list[str]]:
    """Return the circles among ``package``'s modules: strongly connected components (Tarjan)."""
    graph = {
        m: sorted({i.target for i in imports if i.target in house and i.target != m})
        for m, imports in house.items()
        if _under(m, package)
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def check(house: Mapping[str, list[Import]], debt: Mapping[ViolationKey, str]) -> list[str]:
    """Return what is wrong: new violations, and entries of ``debt`` nothing needs any more."""
    found = violations(house)
    new = [
        f"{v.rule}: {v.importer} imports {v.imported} (line {v.line})"
        for v in found
        if v.key not in debt
    ]
    seen = {v.key for v in found}
    paid = [f"no longer needed, delete the entry: {key}" for key in debt if key not in seen]
    return new + paid


def _python_files() -> Iterator[Path]:
    for top in (*LAYERED, *CALLERS):
        yield from (ROOT / top).rglob("*.py")


@pytest.fixture(scope="module")
def house() -> dict[str, list[Import]]:
    files = {
        str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
        for p in _python_files()
        if "node_modules" not in p.parts
    }
    return read_imports(files)


def test_the_house_keeps_its_layering(house: dict[str, list[Import]]) -> None:
    assert check(house, {**ALLOWED, **KNOWN_DEBT}) == []


def test_the_gateway_has_no_import_circle(house: dict[str, list[Import]]) -> None:
    assert import_cycles(house, "gateway") == []


def test_only_create_app_imports_the_wiring(house: dict[str, list[Import]]) -> None:
    importers = {m for m, imports in house.items() for i in imports if i.target == "gateway.wiring"}
    assert importers == {"gateway"}


# The rules themselves, fed small made-up houses: each must catch what it is for.

_FINE_VIEW = "from flask import Blueprint\nfrom gateway.runtime import services\n"


def _broken(files: Mapping[str, str], debt: Mapping[ViolationKey, str] | None = None) -> list[str]:
    return check(read_imports({"gateway/__init__.py": "", **files}), debt or {})


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"gateway/a/views.py": "from gateway.b.views import bp\n", "gateway/b/views.py": ""},
            "views: gateway.a.views imports gateway.b.views",
        ),
        (
            {"gateway/a/views.py": "from gateway.models import User\n"},
            "views: gateway.a.views imports gateway.models",
        ),
        (
            {"gateway/a/views.py": "from sqlalchemy.orm import Session\n"},
            "views: gateway.a.views imports sqlalchemy",
        ),
        (
            {"gateway/a/views.py": "def f():\n    from connectors.errors import Nope\n"},
            "views: gateway.a.views imports connectors.errors",
        ),
        (
            {"gateway/cli.py": "from gateway.wiring import x\n", "gateway/wiring.py": ""},
            "wiring: gateway.cli imports gateway.wiring",
        ),
        (
            {"tests/test_x.py": "from gateway import wiring\n", "gateway/wiring.py": ""},
            "wiring: tests.test_x imports gateway.wiring",
        ),
        (
            {"gateway/services/x.py": "from flask import g\n"},
            "services: gateway.services.x imports flask",
        ),
        (
            {"gateway/services/x.py": "import flask_login\n"},
            "services: gateway.services.x imports flask_login",
        ),
        (
            {"connectors/x.py": "from gateway.models import User\n"},
            "connectors: connectors.x imports gateway.models",
        ),
        (
            {"connectors/x.py": "import idp_mock.tokens\n"},
            "connectors: connectors.x imports idp_mock.tokens",
        ),
        (
            {"regional_mock/x.py": "from gateway import services\n"},
            "emulators: regional_mock.x imports gateway",
        ),
        (
            {"gateway/x.py": "def f():\n    import json\n"},
            "local: gateway.x imports json",
        ),
        (
            {"gateway/x.py": "from . import y\n", "gateway/y.py": "from gateway.x import z\n"},
            "cycle: gateway.x -> gateway.y imports ",
        ),
    ],
)
def test_each_rule_catches_its_violation(files: dict[str, str], expected: str) -> None:
    assert any(line.startswith(expected) for line in _broken(files)), _broken(files)


@pytest.mark.parametrize(
    "source",
    [
        _FINE_VIEW,
        "from gateway.a.forms import F\nfrom gateway.services import access\n",
        "from connectors.schema import Section\nimport typing as t\n",
        "import typing as t\nif t.TYPE_CHECKING:\n    from gateway.models import User\n",
    ],
)
def test_a_view_may_import_its_helpers(source: str) -> None:
    files = {"gateway/a/views.py": source, "gateway/a/forms.py": "", "gateway/models.py": ""}
    assert _broken(files) == []


def test_debt_must_be_needed_and_may_not_grow() -> None:
    files = {"gateway/a/views.py": "from gateway.models import User\n", "gateway/models.py": ""}
    owed = ("views", "gateway.a.views", "gateway.models")
    assert _broken(files, {owed: "known"}) == []
    assert _broken({"gateway/a/views.py": _FINE_VIEW}, {owed: "known"}) == [
        f"no longer needed, delete the entry: {owed}"
    ]


def test_typing_only_imports_are_told_apart() -> None:
    source = "import typing as t\nif t.TYPE_CHECKING:\n    import a\nelse:\n    import b\n"
    imports = read_imports({"m.py": source})["m"]
    assert [(i.target, i.typing_only) for i in imports][1:] == [("a", True), ("b", False)]
