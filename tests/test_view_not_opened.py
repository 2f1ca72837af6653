"""A form or a confirmation Slack will not open (the trigger id is older than Slack's 3 seconds, or
Slack does not answer): the person is told privately what to do now, in their language, and nothing is
sent. Each way into a view is tried through its real entry point."""

from __future__ import annotations

import logging
import time

import pytest

from bot.i18n import for_locale
from bot.slack.listeners.shortcuts import NOT_OPENED
from tests.events import click
from tests.fakes.slack_api import new_trigger_id
from tests.harness import SlackSender, all_sends, blocks_text, settled_records
from tests.test_follow_up import button_message, button_value

SPANISH = for_locale("es-ES")
FORM = (
    "The form could not be opened (Slack allows only 3 seconds for it). Type `/sms` again, "
    "or send directly with `/sms +34600000001 Your message`."
)
CONFIRMATION = (
    "This send needs your confirmation, but the confirmation could not be opened (Slack allows "
    "only 3 seconds for it). Nothing was sent: type the command again."
)
FOLLOW_UP = "The form could not be opened (Slack allows only 3 seconds for it). Click again."
HOME = "The form could not be opened in time. Click Send SMS again."


def stale() -> str:
    """A trigger id Slack issued 4 s ago: views.open answers `expired_trigger_id`."""
    return new_trigger_id(issued_at=time.time() - 4)


def refused_views(fake_slack) -> list[str]:
    return [call.error for call in fake_slack.calls if call.method == "views.open" and call.failed]


def text(message: dict) -> str:
    """What the person reads, less the warning sign every error message starts with."""
    return blocks_text(message).removeprefix(":warning: ")


def dm_text(fake_slack, user_id: str = "UALICE") -> str:
    [dm] = [params for params in fake_slack.wait_for("chat.postMessage") if params["channel"] == user_id]
    return text(dm)


@pytest.mark.parametrize(("locale", "t"), [("en-US", None), ("es-ES", SPANISH)])
def test_a_form_slack_will_not_open_says_how_to_send_anyway(
    bot, slack, fake_slack, fake_ovh, caplog, locale, t
):
    fake_slack.users["UALICE"] = {"locale": locale}
    url = fake_slack.new_response_url()

    answer = slack.command("", response_url=url, trigger_id=stale())

    assert answer.status == 200
    [told] = fake_slack.wait_for_response(url)
    assert text(told) == (t._(FORM) if t else FORM)
    assert refused_views(fake_slack) == ["expired_trigger_id"]
    assert "views.open failed for a form: " in caplog.text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_a_confirmation_slack_will_not_open_sends_nothing_and_says_to_type_again(
    start_bot, fake_slack, fake_ovh, caplog
):
    bot = start_bot(SMS_CONFIRM_ABOVE_RECEIVERS="1")
    url = fake_slack.new_response_url()

    SlackSender(bot.url).command("600000001,600000002 Hola", response_url=url, trigger_id=stale())

    [told] = fake_slack.wait_for_response(url)
    assert text(told) == CONFIRMATION
    assert refused_views(fake_slack) == ["expired_trigger_id"]
    assert "views.open failed for a confirmation: " in caplog.text
    assert fake_ovh.jobs == [] and all_sends(bot.ledger) == []


def test_a_follow_up_form_slack_does_not_answer_for_says_click_again(
    bot, slack, fake_slack, fake_ovh, caplog
):
    slack.command("+34600000001 Primera")
    [first] = settled_records(bot)
    message = button_message(fake_slack)
    fake_slack.dropped.add("views.open")  # the connection is closed before Slack answers
    url = fake_slack.new_response_url()

    slack.click(message, button_value(message), response_url=url)

    [told] = fake_slack.wait_for_response(url)
    assert text(told) == FOLLOW_UP
    assert "views.open failed for a follow-up: " in caplog.text
    assert len(fake_ovh.jobs) == 1 and all_sends(bot.ledger) == [first]


def test_the_home_tabs_send_button_tells_by_dm_when_the_form_does_not_open(
    bot, slack, fake_slack, fake_ovh, caplog
):
    caplog.set_level(logging.WARNING)

    click(slack, "home_send_sms", user_id="UALICE", trigger_id=stale())

    assert dm_text(fake_slack) == HOME  # a Home tab has no channel and no response URL
    assert refused_views(fake_slack) == ["expired_trigger_id"]
    assert "views.open failed for the Home tab's form: " in caplog.text
    assert fake_ovh.jobs == []


def test_the_global_shortcut_tells_by_dm_when_the_form_does_not_open(bot, slack, fake_slack, caplog):
    slack.shortcut(trigger_id=stale())

    assert dm_text(fake_slack) == NOT_OPENED
    assert refused_views(fake_slack) == ["expired_trigger_id"]
    assert "views.open failed for a shortcut's form: " in caplog.text
