"""Slack markup read back: mentions as receivers, and Slack text as a phone shows it (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.receivers import parse_command
from bot.domain.recipients import ContactRef, GroupRef, PersonRef
from bot.slack.blocks import escape
from bot.slack.markup import CommandText, command_reference, plain_text


@pytest.mark.parametrize(
    ("word", "reference"),
    [
        ("<@U123ABC|alice>", PersonRef("U123ABC", "alice")),
        ("<@W0ENTERPRISE>", PersonRef("W0ENTERPRISE", "")),
        ("<!subteam^S0ONCALL|@oncall-team>", GroupRef("S0ONCALL", "oncall-team")),
        ("<!subteam^S0ONCALL>", GroupRef("S0ONCALL", "")),
        ("@recepción", ContactRef("recepción")),
        ("@taller-2", ContactRef("taller-2")),
        ("<!here>", None),
        ("<#C123|general>", None),
        ("@", None),
        ("alice", None),
        ("+34600000001", None),
        ("<@U123ABC|alice>x", None),
    ],
)
def test_words_that_name_receivers(word, reference):
    assert command_reference(word) == reference


@pytest.mark.parametrize(
    ("markup", "plain"),
    [
        ("Hola <@U1|bob>", "Hola @bob"),
        ("<@U1>", "@U1"),
        ("en <#C1|ops>", "en #ops"),
        ("<!subteam^S1|@oncall> y <!subteam^S2>", "@oncall y @group"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<https://a.es>", "https://a.es"),
        ("<https://a.es|a.es>", "https://a.es"),
        ("<https://a.es/x|el panel>", "el panel (https://a.es/x)"),
        ("<mailto:ana@a.es|ana@a.es>", "ana@a.es"),
        ("<tel:+34600000001|600 00 00 01>", "600 00 00 01 (+34600000001)"),
        ("a &amp; b &lt;3 &gt;", "a & b <3 >"),
        ("&amp;lt;", "&lt;"),
        ("<!date^1392734382^{date}|Feb 18, 2014>", "Feb 18, 2014"),
    ],
)
def test_slack_text_as_a_phone_shows_it(markup, plain):
    assert plain_text(markup) == plain


@pytest.mark.parametrize(
    ("markup", "plain"),
    [
        (":smile: hecho :white_check_mark:", "😄 hecho ✅"),
        (":+1::skin-tone-3:", "👍"),
        (":flag-es:", "🇪🇸"),
        (":our-own-logo: 10:30:45", ":our-own-logo: 10:30:45"),
    ],
)
def test_emoji_codes_become_emoji_when_asked(markup, plain):
    assert plain_text(markup, emoji_codes=True) == plain
    assert plain_text(markup) == markup  # a typed command keeps its codes as typed


@given(st.text(max_size=200))
def test_typed_text_escaped_by_slack_comes_back_as_typed(text):
    # Whatever a person types, Slack escapes &, < and >: no markup can be made up by typing.
    assert plain_text(escape(text)) == text


@given(st.text(alphabet=st.characters(blacklist_characters="<>|&"), min_size=1, max_size=30))
def test_a_mention_reads_as_its_name(name):
    assert plain_text(f"<@U1|{name}>") == f"@{name}"


def test_a_command_names_people_groups_and_contacts_before_its_message():
    parsed = parse_command(
        "<@U1|ana>,+34600000001 <!subteam^S1|@guardia> @recepcion Hola @equipo", "ES", command_reference
    )

    assert parsed.message == "Hola @equipo"
    assert [r.e164 for r in parsed.receivers] == ["+34600000001"]
    assert parsed.targets == (
        PersonRef("U1", "ana"),
        parsed.receivers[0],
        GroupRef("S1", "guardia"),
        ContactRef("recepcion"),
    )


def test_a_command_of_people_only_needs_a_message():
    with pytest.raises(Exception, match="Write the message after"):
        parse_command("<@U1|ana>", "ES", command_reference)


def test_a_command_keeps_what_was_typed_apart_from_slack_tokens():
    typed = CommandText.read("<@U1|ana> Hola &lt;@U2|x&gt; &amp; <#C1|ops> \U000f0001")

    parsed = parse_command("+34600000001 " + typed.text, "ES", typed.reference)

    assert [r.e164 for r in parsed.targets] == ["+34600000001"]  # the look-alike <@U1|ana> is typed text
    # A typed character of the placeholders' area turns token reading off rather than being misread: the
    # text stays as Slack sent it, un-escaped.
    assert typed.plain(parsed.message) == "<@U1|ana> Hola <@U2|x> & <#C1|ops> \U000f0001"


def test_a_command_reads_its_tokens():
    typed = CommandText.read("<@U1|ana> Hola &lt;@U2|x&gt; &amp; <#C1|ops>")

    parsed = parse_command(typed.text, "ES", typed.reference)

    assert parsed.targets == (PersonRef("U1", "ana"),)
    assert typed.plain(parsed.message) == "Hola <@U2|x> & #ops"
