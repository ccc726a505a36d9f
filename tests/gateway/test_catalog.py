"""Every message a person can see is extractable and translated in the English catalog.

Two checks that fail on their own, naming the strings: babel's extraction over gateway/
against the English catalog (a message missing from it, or untranslated there), and a
static check that Russian text in gateway/ reaches people only through gettext, where the
extractor can see it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from jinja2 import Environment
from jinja2 import nodes

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "gateway"
ENGLISH = GATEWAY / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None}
GETTEXT = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext", "pgettext"}
CYRILLIC = re.compile("[А-Яа-яЁё]")

# Russian text in Python that is not interface text, by (module, scope) and why.
NOT_INTERFACE_TEXT = {
    ("gateway/services/documents.py", "CERTIFICATE"): "the birth certificate's number format",
    ("gateway/services/documents.py", "LOOKALIKES"): "Latin letters typed for Cyrillic ones",
    ("gateway/services/applications.py", "_norm"): "name comparison folds «ё» into «е»",
    ("gateway/services/trust.py", "normal_name"): "name comparison folds «ё» into «е»",
    ("gateway/services/names.py", "_words"): "name comparison folds «ё» into «е»",
    ("gateway/applications/forms.py", "_CYRILLIC_WORD"): "the child's name: Cyrillic letters",
    ("gateway/applications/forms.py", "CLASS_NAME"): "a class: its Cyrillic letter",
    # SMS and e-mail go out in Russian: the recipient's interface language is not known.
    ("gateway/services/applications.py", "refuse"): "SMS / e-mail to the parent",
    ("gateway/services/applications.py", "approve"): "SMS / e-mail to the parent",
    ("gateway/services/applications.py", "_tell"): "SMS / e-mail to the parent",
    ("gateway/services/trust.py", "invite"): "SMS / e-mail to the invitee",
    ("gateway/services/trust.py", "revoke"): "SMS / e-mail to the trusted person",
    ("gateway/services/trust.py", "_tell_owner_of_refusal"): "SMS to the parent",
    ("gateway/services/sync.py", "tell_relink"): "SMS / e-mail to the parent",
    ("gateway/services/outbox.py", "GONE"): "a delivered SMS / e-mail's stored text",
    ("gateway/services/letters.py", "MONTHS"): "notification e-mail to the family",
    ("gateway/services/letters.py", "WHAT"): "notification e-mail to the family",
    ("gateway/services/letters.py", "line"): "notification e-mail to the family",
    ("gateway/services/letters.py", "_detail"): "notification e-mail to the family",
    ("gateway/services/letters.py", "subject"): "notification e-mail to the family",
    ("gateway/services/letters.py", "letter"): "notification e-mail to the family",
    ("gateway/services/push.py", "payload"): "a Web Push message, worded like the e-mail",
    ("gateway/services/telegram.py", "BOUND"): "the bot's Telegram reply",
    ("gateway/services/telegram.py", "STALE"): "the bot's Telegram reply",
    ("gateway/services/telegram.py", "HELLO"): "the bot's Telegram reply",
    ("gateway/services/telegram.py", "text_of"): "a Telegram message, worded like the e-mail",
    # Export files (CSV, iCalendar) are written in Russian whatever the interface language.
    ("gateway/services/exports.py", "CSV_COLUMNS"): "CSV export header",
    ("gateway/services/exports.py", "SCALE_NAMES"): "CSV export values",
    ("gateway/services/exports.py", "grades_disposition"): "CSV export file name",
    ("gateway/services/exports.py", "_LATIN"): "Cyrillic to Latin for the ASCII file name",
    ("gateway/services/exports.py", "LESSON_PREFIX"): "calendar feed text",
    ("gateway/services/exports.py", "EVENT_CATEGORY"): "calendar feed text",
    ("gateway/services/exports.py", "lesson_event"): "calendar feed text",
    ("gateway/services/exports.py", "homework_event"): "calendar feed text",
    ("gateway/services/exports.py", "build_calendar"): "calendar feed text",
}
# The language switch names Russian in Russian, in every interface language.
TEMPLATE_TEXT_IN_ANY_LANGUAGE = {"Русский"}


def _english() -> Catalog:
    with ENGLISH.open("rb") as fh:
        return read_po(fh, locale="en")


def _extracted() -> dict[str, str]:
    """Map every msgid babel extracts from gateway/ (per babel.cfg) to where it is."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        GATEWAY, method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple | list) else message
        found.setdefault(msgid, f"gateway/{filename}:{lineno}")
    return found


def test_every_message_the_sources_show_is_translated_in_the_english_catalog() -> None:
    catalog = _english()
    problems = []
    for msgid, where in sorted(_extracted().items(), key=lambda item: item[1]):
        entry = catalog.get(msgid)
        strings = (
            entry.string if entry and isinstance(entry.string, tuple) else (entry and entry.string,)
        )
        if entry is None:
            problems.append(f"missing from the English catalog: {msgid!r} ({where})")
        elif entry.fuzzy or not all(text and text.strip() for text in strings):
            problems.append(f"not translated in the English catalog: {msgid!r} ({where})")
    assert not problems, "\n".join(problems)


def test_the_english_catalog_holds_no_message_the_sources_no_longer_show() -> None:
    extracted = set(_extracted())
    stale = sorted(
        m.id
        for m in _english()
        if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in extracted
    )
    assert not stale, f"entries no source uses any more: {stale}"


def _scopes(tree: ast.Module) -> Iterator[tuple[ast.AST, ast.AST, str]]:
    """Yield (node, parent, scope): scope is the enclosing def, class or module constant."""

    def walk(node: ast.AST, scope: str) -> Iterator[tuple[ast.AST, ast.AST, str]]:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name
            elif scope == "<module>" and isinstance(child, ast.Assign | ast.AnnAssign):
                target = child.targets[0] if isinstance(child, ast.Assign) else child.target
                inner = ast.unparse(target)
            yield child, node, inner
            yield from walk(child, inner)

    yield from walk(tree, "<module>")


def _is_gettext(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT
    )


def _msgid(call: ast.Call) -> ast.Constant | None:
    first = call.args[0] if call.args else None
    return first if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def _untranslated_russian(path: Path) -> Iterator[str]:
    """Say where Russian text in a module escapes gettext, or hides from the extractor."""
    relative = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _is_gettext(node)]
    msgids = {id(found) for call in calls if (found := _msgid(call))}
    for call in calls:
        if _msgid(call) is None:
            yield f"{relative}:{call.lineno}: gettext of a computed value (not extractable)"
    for node, parent, scope in _scopes(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if not CYRILLIC.search(node.value) or isinstance(parent, ast.Expr):  # docstrings
            continue
        if id(node) not in msgids and (relative, scope) not in NOT_INTERFACE_TEXT:
            yield f"{relative}:{node.lineno}: Russian text outside gettext: {node.value!r}"


def test_russian_text_in_python_reaches_people_only_through_gettext() -> None:
    found = [
        problem for path in sorted(GATEWAY.rglob("*.py")) for problem in _untranslated_russian(path)
    ]
    assert not found, "\n".join(found)


def _template_text(node: nodes.Node, *, msgid: bool = False) -> Iterator[tuple[int, str]]:
    if (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name in GETTEXT
    ):
        for position, argument in enumerate(node.args):
            yield from _template_text(argument, msgid=position == 0)
        for keyword in node.kwargs:
            yield from _template_text(keyword)
        return
    if isinstance(node, nodes.TemplateData):
        yield node.lineno, node.data
    elif isinstance(node, nodes.Const) and isinstance(node.value, str) and not msgid:
        yield node.lineno, node.value
    for child in node.iter_child_nodes():
        yield from _template_text(child)


def test_russian_text_in_templates_is_inside_gettext() -> None:
    env = Environment(extensions=["jinja2.ext.i18n"])
    found = [
        f"{path.relative_to(ROOT)}:{lineno}: {text.strip()!r}"
        for path in sorted((GATEWAY / "templates").rglob("*.html"))
        for lineno, text in _template_text(env.parse(path.read_text(encoding="utf-8")))
        if CYRILLIC.search(re.sub("|".join(TEMPLATE_TEXT_IN_ANY_LANGUAGE), "", text))
    ]
    assert not found, "\n".join(found)
