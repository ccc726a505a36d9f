"""People's names: the short form for phones and the genitive for «по приглашению …»."""

from __future__ import annotations

import pytest

from gateway.services import names


@pytest.mark.parametrize(
    ("full", "short"),
    [
        ("Смирнова Ирина Сергеевна", "Смирнова И. С."),
        ("Иванова Мария", "Иванова М."),
        ("  Смирнов   Артём  Игоревич ", "Смирнов А. И."),
        ("Орлова", "Орлова"),
        ("", ""),
    ],
)
def test_the_short_form_keeps_the_family_name_and_initials(full: str, short: str) -> None:
    assert names.short_name(full) == short


@pytest.mark.parametrize(
    ("full", "genitive"),
    [
        ("Смирнова Ирина Сергеевна", "Смирновой Ирины"),
        ("Смирнов Артём Игоревич", "Смирнова Артёма"),
        ("Иванова Мария", "Ивановой Марии"),
        ("Иванов Пётр", "Иванова Петра"),
        ("Черных Ольга Олеговна", "Черных Ольги"),
        ("Орлова", "Орлова"),
    ],
)
def test_the_genitive_declines_family_and_given_name(full: str, genitive: str) -> None:
    assert names.genitive(full) == genitive


def test_a_name_whose_gender_is_unknown_is_not_declined() -> None:
    assert names.genitive("Ли Женя") == "Ли Женя"


@pytest.mark.parametrize(
    ("account", "repeats"),
    [
        ("Полина", True),
        ("полина", True),
        ("Смирнова Полина", True),
        ("Полина Смирнова", True),
        ("СМИРНОВА ПОЛИНА ДМИТРИЕВНА", True),
        ("Child1", False),
        ("Поля", False),
        ("Полина-младшая", False),
        ("", False),
    ],
)
def test_an_account_named_after_the_child_repeats_her_name(account: str, repeats: bool) -> None:
    assert names.repeats(account, "Смирнова Полина Дмитриевна") is repeats


def test_the_letter_yo_and_case_do_not_make_names_differ() -> None:
    assert names.repeats("артем", "Смирнов Артём Дмитриевич")
    assert names.repeats("Пётр", "Иванов Петр")
