"""Resolving people, groups and contacts to numbers (pure: a directory and a contact book in memory)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.receivers import parse_receiver
from bot.domain.recipients import (
    ContactRef,
    GroupRef,
    Person,
    PersonRef,
    Recipients,
    Skipped,
    resolve,
    split_field,
)


class Directory:
    def __init__(self, people: dict[str, Person], groups: dict[str, list[str]]) -> None:
        self.people, self.groups, self.asked = people, groups, 0
        self.warmed: list[list[str]] = []

    def person(self, user_id: str) -> Person | None:
        self.asked += 1
        return self.people.get(user_id)

    def group_members(self, group_id: str) -> Sequence[str] | None:
        return self.groups.get(group_id)

    def warm(self, user_ids: Sequence[str]) -> None:
        self.warmed.append(list(user_ids))


class Book:
    def __init__(self, numbers: dict[str, str]) -> None:
        self.numbers = numbers

    def lookup(self, names: Iterable[str]) -> dict[str, str]:
        known = {name.casefold(): number for name, number in self.numbers.items()}
        return {name: known[name.casefold()] for name in names if name.casefold() in known}


ANA = Person("UANA", "ana", "600 000 001")
BEA = Person("UBEA", "bea", "")
DIRECTORY = Directory({"UANA": ANA, "UBEA": BEA}, {"SALL": ["UANA", "UBEA"], "SNONE": []})
BOOK = Book({"Taller": "+34600000009"})


def test_a_number_reached_twice_goes_once_under_its_first_name():
    typed = parse_receiver("+34600000001", None)

    resolved = resolve([PersonRef("UANA"), typed, GroupRef("SALL", "all")], DIRECTORY, BOOK, "ES")

    assert [(r.e164, r.label) for r in resolved.receivers] == [("+34600000001", "@ana")]
    assert resolved.skipped == (Skipped("@bea", resolved.skipped[0].reason),)


def test_contacts_match_whatever_their_case():
    resolved = resolve([ContactRef("TALLER")], None, BOOK, "ES")

    assert [(r.e164, r.contact) for r in resolved.receivers] == [("+34600000009", "TALLER")]


def test_every_problem_is_named_in_one_error():
    with pytest.raises(InvalidInput) as raised:
        resolve([PersonRef("UBEA"), GroupRef("SNONE", "nadie"), ContactRef("x1")], DIRECTORY, BOOK, "ES")

    text = raised.value.user_message
    assert text.startswith("3 receivers cannot get the SMS:")
    assert "@bea has no phone" in text and "@nadie has no members" in text and "`x1`" in text


def test_without_a_directory_people_cannot_be_named():
    with pytest.raises(InvalidInput, match="cannot be looked up here"):
        resolve([PersonRef("UANA", "ana")], None, None, "ES")


def test_a_national_profile_phone_needs_the_default_region():
    with pytest.raises(InvalidInput, match="not a valid one"):
        resolve([PersonRef("UANA")], DIRECTORY, None, None)


@pytest.mark.parametrize(
    ("text", "names", "rest"),
    [
        ("+34 600 00 00 01, @casa oficina", ["casa", "oficina"], "+34 600 00 00 01,"),
        ("600000001\n600000002", [], "600000001\n600000002"),
        ("+34 6OO", [], "+34 6OO"),  # a typo in a number is no contact's name
        ("@taller-2;Taller-2", ["taller-2", "Taller-2"], ";"),
    ],
)
def test_a_form_field_names_contacts_by_words_that_start_with_a_letter(text, names, rest):
    contacts, numbers = split_field(text)

    assert [c.name for c in contacts] == names
    assert numbers == rest


def test_a_form_names_nobody_is_an_error():
    with pytest.raises(InvalidInput, match="Enter at least one phone number"):
        Recipients(DIRECTORY, BOOK, "ES").resolve_field(" , ")


def test_people_named_and_group_members_are_asked_about_together():
    directory = Directory(DIRECTORY.people, DIRECTORY.groups)

    with pytest.raises(InvalidInput, match="@bea has no phone"):
        resolve([PersonRef("UANA"), GroupRef("SALL", "all"), PersonRef("UBEA")], directory, None, "ES")

    assert directory.warmed == [["UANA", "UBEA"], ["UANA", "UBEA"]]
