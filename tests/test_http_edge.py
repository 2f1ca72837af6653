"""HTTP mode at its edge, through the real `python -m bot run --http` process: Slack's unsigned SSL check,
bodies over the size cap, slow connections, and requests that arrive after Slack stopped waiting."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests

from tests.harness import SlackSender
from tests.processes import HttpBotProcess


@pytest.fixture
def process(env, tmp_path) -> Iterator[HttpBotProcess]:
    bot = HttpBotProcess(env, tmp_path, "edge")
    try:
        bot.wait_ready()
        yield bot
    finally:
        bot.stop()


# --- Slack's SSL check -----------------------------------------------------------------------------


def test_slacks_unsigned_ssl_check_is_answered_200_as_bolt_does_and_nothing_else(
    process, fake_slack, fake_ovh
):
    """Bolt answers a body whose ``ssl_check`` is "1" (form or JSON) before checking signatures; the flag
    gets an unsigned request its 200 and nothing more: no listener sees it."""
    events = process.url + "/slack/events"
    unsigned = SlackSender(process.url)
    url = fake_slack.new_response_url()
    forged = {"ssl_check": "1", "command": "/sms", "text": "+34600000001 forged", "user_id": "UALICE"}
    forged |= {"channel_id": "COPS", "team_id": "T0TEST", "trigger_id": "t-forged", "response_url": url}

    as_slack_sends_it = unsigned.post(urlencode({"ssl_check": "1", "token": "legacy"}), sign=False)
    as_json = requests.post(events, json={"ssl_check": "1"}, timeout=10)
    flag_on_a_forged_command = unsigned.post(urlencode(forged), sign=False)
    other_flags = [unsigned.post(urlencode({"ssl_check": flag}), sign=False) for flag in ("0", "true", "")]
    valid = SlackSender(process.url).command("+34600000001 real")
    fake_ovh.wait_for_jobs(1)

    assert (as_slack_sends_it.status, as_slack_sends_it.body) == (200, "")
    assert (as_json.status_code, as_json.text) == (200, "")
    assert (flag_on_a_forged_command.status, flag_on_a_forged_command.body) == (200, "")
    assert [answer.status for answer in other_flags] == [401, 401, 401]
    assert valid.status == 200
    assert [job.body["message"] for job in fake_ovh.jobs] == ["real"]
    assert fake_slack.responses(url) == []
