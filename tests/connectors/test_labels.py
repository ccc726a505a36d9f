"""Class names read the same whichever backend spelled them."""

from __future__ import annotations

import pytest

from connectors.labels import class_label


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("10А", "10 «А»"),  # NetSchool's diary
        ("7-Б", "7 «Б»"),  # MESH and Dnevnik.ru
        (" 2 - а ", "2 «А»"),
        ("10 «А»", "10 «А»"),
        ("11 Б", "11 «Б»"),
        ("5 класс «В»", "5 класс «В»"),  # another shape is kept as it is
        ("Подготовительная группа", "Подготовительная группа"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_a_class_name_becomes_a_number_and_a_quoted_letter(raw: str | None, shown: str) -> None:
    assert class_label(raw) == shown
