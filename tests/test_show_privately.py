"""Showing a person something privately: the command's response URL, else an ephemeral message in the
channel, else a DM from the app; each way Slack does not take is passed over for the next."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.audit import respond, show_privately
from bot.slack.blocks import error_message
from tests.fakes.slack_api import RESPONSE_URL_USES

MESSAGE = error_message("Número no válido: +34 6")


@pytest.fixture
def client(fake_slack) -> WebClient:
    return WebClient(base_url=fake_slack.api_url, token=fake_slack.bot_token, timeout=5)


def test_a_response_url_answer_is_ephemeral_and_leaves_the_command_as_it_was(fake_slack):
    url = fake_slack.new_response_url()

    respond(url, MESSAGE)

    assert fake_slack.responses(url) == [
        {
            "text": MESSAGE.text,
            "blocks": MESSAGE.blocks,
            "response_type": "ephemeral",
            "replace_original": False,
        }
    ]


def test_a_used_up_response_url_raises(fake_slack):
    url = fake_slack.new_response_url()
    for _ in range(RESPONSE_URL_USES):
        respond(url, MESSAGE)

    with pytest.raises(SlackApiError, match="response_url answered 404"):
        respond(url, MESSAGE)


def test_the_response_url_comes_first(client, fake_slack):
    url = fake_slack.new_response_url()

    assert show_privately(client, MESSAGE, user_id="UALICE", channel_id="COPS", response_url=url)

    assert len(fake_slack.responses(url)) == 1
    assert fake_slack.calls_to("chat.postEphemeral") == [] and fake_slack.calls_to("chat.postMessage") == []


def test_an_expired_response_url_is_passed_over_for_an_ephemeral_message(client, fake_slack):
    expired = f"{fake_slack.base_url}/response/expired-long-ago"

    assert show_privately(client, MESSAGE, user_id="UALICE", channel_id="COPS", response_url=expired)

    [ephemeral] = fake_slack.calls_to("chat.postEphemeral")
    assert (ephemeral["channel"], ephemeral["user"], ephemeral["text"]) == ("COPS", "UALICE", MESSAGE.text)
    assert fake_slack.calls_to("chat.postMessage") == []


def test_where_no_ephemeral_message_can_go_the_app_sends_a_dm(client, fake_slack):
    fake_slack.not_in_channel = {"CPRIVATE"}

    assert show_privately(client, MESSAGE, user_id="UALICE", channel_id="CPRIVATE", response_url=None)

    [dm] = fake_slack.calls_to("chat.postMessage")
    assert (dm["channel"], dm["text"], dm["unfurl_links"]) == ("UALICE", MESSAGE.text, False)
    assert fake_slack.messages["DALICE"][0]["text"] == MESSAGE.text


def test_when_no_way_is_left_it_says_so(client, fake_slack):
    fake_slack.not_in_channel = {"CPRIVATE", "UALICE"}

    assert not show_privately(client, MESSAGE, user_id="UALICE", channel_id="CPRIVATE", response_url=None)
