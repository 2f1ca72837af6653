"""What a request may carry into a message: ids shaped as Slack's, and a text that is more than invisible
characters (issue 8, "Smaller holes"; bidi controls shown as code points: tests/test_audit_trail.py)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.sms_text import check_message
from bot.slack.compose import COMPOSE_CALLBACK_ID, compose_modal
from bot.slack.ids import CHANNEL_ID, TEAM_ID, USER_ID, is_id
from tests.harness import SlackSender, blocks_text

FORGED_USER = "UX> <!channel> <https://evil.example|click"


# --- ids -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_id", FORGED_USER),
        ("user_id", "ualice"),
        ("user_id", "UALICE\n"),
        ("channel_id", "COPS <!here>"),
        ("team_id", "T0TEST|x"),
    ],
)
def test_a_command_with_an_id_not_shaped_as_slacks_is_refused_as_malformed(
    field, value, bot, slack, fake_slack, fake_ovh
):
    ids = {"user_id": "UALICE", "channel_id": "COPS"} | ({field: value} if field != "team_id" else {})
    url = fake_slack.new_response_url()
    if field == "team_id":
        answer = slack.post(_command_form(url, team_id=value))
    else:
        answer = slack.command("+34600000001 hi", response_url=url, **ids)

    assert answer.status == 400 and "malformed request" in answer.body
    bot.bot.drain()
    assert fake_ovh.jobs == []
    assert fake_slack.calls_to("chat.postMessage") == [] and fake_slack.responses(url) == []


def _command_form(response_url: str, **changes: str) -> str:
    form = {
        "team_id": "T0TEST",
        "channel_id": "COPS",
        "user_id": "UALICE",
        "command": "/sms",
        "text": "+34600000001 hi",
        "response_url": response_url,
        "trigger_id": "trigger-forged-team",
    }
    return urlencode(form | changes)


def test_a_form_submitted_with_a_forged_user_id_is_refused_as_malformed(bot, slack, fake_slack, fake_ovh):
    view = compose_modal(channel_id="COPS", response_url=fake_slack.new_response_url(), default_region="ES")
    view = {**view, "id": "V0FORGED"}
    assert view["callback_id"] == COMPOSE_CALLBACK_ID

    answer = slack.submit_modal(view, receivers="+34600000001", message="hi", user_id=FORGED_USER)

    assert answer.status == 400 and "malformed request" in answer.body
    bot.bot.drain()
    assert fake_ovh.jobs == [] and fake_slack.calls_to("chat.postMessage") == []


def test_ids_of_every_shape_slack_uses_go_through(start_bot, fake_slack, fake_ovh):
    """An Enterprise Grid user (W…) in a private channel of the old style (G…) sends as anyone else."""
    bot = start_bot(SMS_ALLOWED_USERS="W012ABCDEF")
    answer = SlackSender(bot.url).command("+34600000001 hi", user_id="W012ABCDEF", channel_id="G012ABCDEF")

    assert answer.status == 200
    fake_ovh.wait_for_jobs(1)


@pytest.mark.parametrize("value", ["U012ABCDEF", "W012ABCDEF", "UALICE"])
def test_user_ids(value):
    assert is_id(USER_ID, value)


@pytest.mark.parametrize(
    "value", ["", "U", "u012abcdef", "U012ABCDEF\n", " U012", "C012ABCDEF", FORGED_USER, None, 12]
)
def test_not_user_ids(value):
    assert not is_id(USER_ID, value)


def test_channel_and_team_ids():
    assert all(is_id(CHANNEL_ID, value) for value in ("C012ABCDEF", "G012ABCDEF", "D012ABCDEF"))
    assert not any(is_id(CHANNEL_ID, value) for value in ("U012ABCDEF", "C01 <!here>", "c012abcdef"))
    assert is_id(TEAM_ID, "T012ABCDEF") and is_id(TEAM_ID, "E012ABCDEF") and not is_id(TEAM_ID, "T0|x")


# --- invisible text --------------------------------------------------------------------------------

INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c\u200d",  # zero-width non-joiner, joiner
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\ufe0f",  # a variation selector alone
    "\U000e0101",  # a variation selector from the supplement
    "\u202e\u2066",  # bidi controls alone
    "\u3164",  # Hangul filler
    " \u200b \u00a0\u2800 ",  # with white space and a Braille blank
]


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_message_of_invisible_characters_alone_is_empty(text):
    with pytest.raises(InvalidInput, match="only invisible characters"):
        check_message(text)


@pytest.mark.parametrize("text", ["a\u200b", "\u2764\ufe0f", "\u202eabc", "日本"])
def test_a_message_with_anything_visible_is_not_empty(text):
    check_message(text)


def test_a_command_with_an_invisible_message_is_refused_and_nothing_sent(bot, slack, fake_slack, fake_ovh):
    answer = slack.command("+34600000001 \u200b\u2060\ufe0f")

    assert answer.status == 200 and "only invisible characters" in blocks_text(answer.json())
    bot.bot.drain()
    assert fake_ovh.jobs == [] and fake_slack.calls_to("chat.postMessage") == []


def test_a_form_with_an_invisible_message_shows_it_on_the_message_field(slack, fake_slack, fake_ovh):
    view = compose_modal(channel_id="COPS", response_url=fake_slack.new_response_url(), default_region="ES")

    answer = slack.submit_modal(
        {**view, "id": "V0INVISIBLE"}, receivers="+34600000001", message="\u200b\ufeff"
    )

    assert answer.status == 200 and answer.json()["response_action"] == "errors"
    assert "only invisible characters" in answer.json()["errors"]["message"]
    assert fake_ovh.jobs == []
