"""Slack failing in the ways the SDK does not wrap, and what the bot shows people when it answers.

`slack_sdk` raises `SlackClientError` for Slack's own answers, but lets network failures through as they
come: `URLError`, `TimeoutError`, `RemoteDisconnected` (all `OSError`s). The fake Slack produces them for
real, by closing the connection unanswered (`dropped`, `drop_if`) or answering too late (`hangs`).
A dropped call is retried by the SDK after a backoff; the random jitter the SDK adds to it is taken out
here (`no_retry_jitter`), so no test waits on chance.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from slack_sdk.errors import SlackApiError

from bot.domain.records import AuditStatus, SendStatus
from bot.slack.client import make_web_client
from tests.harness import RunningBot, SlackSender, audit_thread, blocks_text, settled_records
from tests.test_cli_check import Cli, kept_logging
from tests.test_malformed_requests import unhandled

SLOW = 20.0  # seconds to wait for something behind dropped connections and the SDK's retries


@pytest.fixture(autouse=True)
def no_retry_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK adds up to a second of random jitter to each retry's backoff (`RandomJitter`) and to a
    rate limit's Retry-After: none here, so a retry comes after the backoff alone."""
    monkeypatch.setattr("slack_sdk.http_retry.jitter.random.random", lambda: 0.0)
    monkeypatch.setattr("slack_sdk.http_retry.builtin_handlers.random.random", lambda: 0.0)


def idle(bot: RunningBot) -> None:
    """Wait until the bot has done all the work it acknowledged (it takes no new requests after)."""
    bot.bot.drain()


def dms(fake_slack, user_id: str = "UALICE") -> list[dict]:
    """The direct messages the app posted to ``user_id`` (the fake records failed calls too)."""
    return [
        call.params
        for call in fake_slack.calls
        if call.method == "chat.postMessage" and call.params.get("channel") == user_id and not call.failed
    ]


def wait_for_dm(fake_slack, user_id: str = "UALICE", timeout: float = SLOW) -> dict:
    deadline = time.monotonic() + timeout
    while not (posted := dms(fake_slack, user_id)):
        if time.monotonic() > deadline:
            raise AssertionError(f"no DM to {user_id}; Slack got {[c.method for c in fake_slack.calls]}")
        time.sleep(0.02)
    return posted[-1]


# --- 1. network errors are Slack failures -----------------------------------------------------------


def test_a_network_error_on_the_audit_post_leaves_it_for_recovery(bot, slack, fake_slack, fake_ovh):
    fake_slack.dropped = {"chat.postMessage"}
    url = fake_slack.new_response_url()

    slack.command("+34600000001 cut off", response_url=url)
    [record] = settled_records(bot, timeout=SLOW)
    idle(bot)

    assert record.status is SendStatus.SENT and record.audit_status is AuditStatus.FAILED
    # Slack failing is not a closed channel: nothing private, no "something went wrong".
    assert fake_slack.responses(url) == [] and fake_slack.calls_to("chat.postEphemeral") == []
    fake_slack.dropped.clear()
    assert bot.recover().reported == [record.id]
    [(parent, _reply)] = audit_thread(fake_slack)
    assert "cut off" in blocks_text(parent)
    assert bot.ledger.get(record.id).audit_status is AuditStatus.THREAD


def test_a_network_error_on_the_thread_reply_keeps_the_parent_for_recovery(bot, slack, fake_slack, fake_ovh):
    fake_slack.drop_if = lambda method, params: method == "chat.postMessage" and "thread_ts" in params

    slack.command("+34600000001 half posted")
    [record] = settled_records(bot, timeout=SLOW)
    idle(bot)

    [parent] = [c for c in fake_slack.calls if c.method == "chat.postMessage" and not c.failed]
    assert record.audit_status is AuditStatus.FAILED
    assert (record.audit_channel_id, record.audit_ts) == ("COPS", parent.response["ts"])
    fake_slack.drop_if = None
    assert bot.recover().reported == [record.id]
    posted = [c.params for c in fake_slack.calls if c.method == "chat.postMessage" and not c.failed]
    [_parent, reply] = posted  # one parent: recovery answered in its thread
    assert reply["thread_ts"] == parent.response["ts"]
    assert f"*OVH job id:* {fake_ovh.jobs[0].ids[0]}" in blocks_text(reply)


def test_a_network_error_on_one_private_way_tries_the_next(bot, slack, fake_slack, fake_ovh):
    fake_slack.not_in_channel = {"CPRIVATE"}  # no thread, no ephemeral message: a DM is left
    url = fake_slack.new_response_url()
    fake_slack.dropped = {url}

    slack.command("+34600000001 privately", channel_id="CPRIVATE", response_url=url)
    [record] = settled_records(bot, timeout=SLOW)

    assert record.audit_status is AuditStatus.PRIVATE
    assert "sent an SMS to +34 600 00 00 01" in blocks_text(wait_for_dm(fake_slack))


def test_a_person_is_told_even_when_the_first_ways_fail_on_the_network(start_bot, fake_slack, caplog):
    bot = start_bot(SMS_ADMIN_USERS="UBOSS")
    url = fake_slack.new_response_url()
    fake_slack.dropped = {url, "chat.postEphemeral"}

    SlackSender(bot.url).command("optouts", response_url=url)

    assert "Only the bot's admins manage opt-outs" in blocks_text(wait_for_dm(fake_slack))
    idle(bot)
    assert unhandled(caplog) == []


def test_when_slack_takes_no_way_of_telling_nothing_escapes(start_bot, fake_slack, caplog):
    bot = start_bot(SMS_ADMIN_USERS="UBOSS")
    url = fake_slack.new_response_url()
    fake_slack.dropped = {url, "chat.postEphemeral", "chat.postMessage"}

    answer = SlackSender(bot.url).command("optouts", response_url=url)
    idle(bot)

    assert answer.status == 200
    assert unhandled(caplog) == []
    assert any("could not tell UALICE" in r.getMessage() for r in caplog.records)


# --- 2. /health --------------------------------------------------------------------------------------


def test_health_answers_when_the_connection_to_slack_drops(bot, fake_slack):
    fake_slack.dropped = {"auth.test"}

    answer = requests.get(bot.url + "/health", timeout=SLOW)

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "slack": "unreachable"}


def test_health_does_not_wait_for_a_slack_that_hangs(bot, fake_slack):
    fake_slack.reset()  # forget the bot's own auth.test at start-up
    fake_slack.hangs = {"auth.test": 6}

    answer = requests.get(bot.url + "/health", timeout=5)

    assert answer.status_code == 200 and answer.json()["slack"] == "unreachable"
    assert fake_slack.calls_to("auth.test") == []  # answered while Slack still hung: its client gave up


def test_health_does_not_wait_out_a_rate_limit(bot, fake_slack):
    fake_slack.reset()  # forget the bot's own auth.test at start-up
    fake_slack.fail_next("auth.test", status=429, retry_after=3)

    answer = requests.get(bot.url + "/health", timeout=10)

    assert answer.json()["slack"] == "unreachable"
    assert len(fake_slack.calls_to("auth.test")) == 1  # not asked again after the Retry-After


def test_health_asks_slack_at_most_every_30_seconds(bot, fake_slack):
    fake_slack.reset()  # forget the bot's own auth.test at start-up
    for _ in range(3):
        assert requests.get(bot.url + "/health", timeout=5).json()["slack"] == "ok"

    assert len(fake_slack.calls_to("auth.test")) == 1


# --- 3. a client for calls made before an ack --------------------------------------------------------


def test_a_client_without_rate_limit_retries_fails_at_once(fake_slack):
    fake_slack.usergroup_members = {"SOPS": ["UALICE"]}
    fake_slack.fail_next("usergroups.users.list", status=429, retry_after=5)
    client = make_web_client(fake_slack.bot_token, fake_slack.api_url, rate_limit_retries=False)

    with pytest.raises(SlackApiError) as raised:
        client.usergroups_users_list(usergroup="SOPS")

    assert raised.value.response["error"] == "ratelimited"
    assert len(fake_slack.calls_to("usergroups.users.list")) == 1  # no retry after the Retry-After
    assert client.usergroups_users_list(usergroup="SOPS")["users"] == ["UALICE"]


def test_a_client_gives_up_after_its_timeout(fake_slack):
    fake_slack.hangs = {"users.info": 10}
    client = make_web_client(fake_slack.bot_token, fake_slack.api_url, timeout=1)

    with pytest.raises(TimeoutError):
        client.users_info(user="UALICE")

    assert fake_slack.calls_to("users.info") == []  # Slack had not answered yet


# --- 4. what people typed is shown, never obeyed -----------------------------------------------------


def test_typed_text_in_an_error_is_escaped(bot, slack):
    answer = slack.command("+1<!here> x")

    shown = answer.json()
    text = f"{shown['text']}\n{blocks_text(shown)}"
    assert "`+1&lt;!here&gt;` is not a phone number" in blocks_text(shown)
    assert "<!here>" not in text


def test_typed_text_in_an_error_told_later_is_escaped(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UBOSS")
    url = fake_slack.new_response_url()

    SlackSender(bot.url).command("optout <@UBOSS>", user_id="UBOSS", response_url=url)

    [reply] = fake_slack.wait_for_response(url)
    assert "&lt;@UBOSS&gt;" in blocks_text(reply) and "<@UBOSS>" not in f"{reply['text']}{blocks_text(reply)}"


def test_the_mentions_the_bot_writes_still_render(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UBOSS")
    bot.core.opt_outs.add("+34600000009", "UBOSS", "said <!channel> & left")
    url = fake_slack.new_response_url()

    SlackSender(bot.url).command("optouts", user_id="UBOSS", response_url=url)

    listed = blocks_text(fake_slack.wait_for_response(url)[0])
    assert "(by <@UBOSS>" in listed
    assert "said &lt;!channel&gt; &amp; left" in listed


def test_the_form_shows_typed_text_as_typed(bot, slack, fake_slack):
    slack.command("")
    opened = fake_slack.wait_for_view()

    answer = slack.submit_modal({**opened, "id": "V1"}, receivers="+1<!here>", message="hi")

    assert "`+1<!here>`" in answer.json()["errors"]["receivers"]  # plain text: nothing to escape


# --- 5. a long opt-out list --------------------------------------------------------------------------


def test_a_long_opt_out_list_fits_slacks_limits_and_keeps_its_summary(start_bot, fake_slack):
    bot = start_bot(SMS_ADMIN_USERS="UBOSS")
    for n in range(60):
        bot.core.opt_outs.add(f"+346000000{n:02d}", "UBOSS", f"note {n} " + "asked & insisted " * 20)
    url = fake_slack.new_response_url()

    SlackSender(bot.url).command("optouts", user_id="UBOSS", response_url=url)

    [reply] = fake_slack.wait_for_response(url)
    blocks = reply["blocks"]
    assert 1 < len(blocks) <= 50
    assert all(len(block["text"]["text"]) <= 3000 for block in blocks)
    listed = blocks_text(reply)
    assert listed.startswith("*60 opted-out numbers:*")
    assert listed.count("\n• ") == 50
    assert listed.endswith("…and 10 more")


# --- 6. why a result is private ----------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path) -> Iterator[Cli]:
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


def test_a_cli_send_without_a_channel_is_the_persons_copy(cli, env, fake_slack, fake_ovh):
    outcome = cli("send", "+34600000001", "Hola", "--user", "UALICE", env=env)

    assert outcome.code == 0, outcome.err
    hint = blocks_text(wait_for_dm(fake_slack))
    assert "Sent from the command line without `--channel`: this is your copy of the audit trail." in hint
    assert "/invite" not in hint and "this conversation" not in hint


def test_a_later_report_to_a_closed_channel_says_it_is_late(bot, slack, fake_slack, fake_ovh):
    fake_slack.set_down(True)
    slack.command("+34600000001 during the outage", channel_id="CPRIVATE")
    [record] = settled_records(bot)
    fake_slack.set_down(False)
    fake_slack.not_in_channel = {"CPRIVATE"}  # meanwhile the bot was removed from the channel

    assert bot.recover().reported == [record.id]

    shown = blocks_text(wait_for_dm(fake_slack))
    assert "during the outage" in shown
    assert "could not be reported when the SMS was sent" in shown and "/invite @smsbot" in shown
    assert bot.ledger.get(record.id).audit_status is AuditStatus.PRIVATE


def test_a_later_report_of_a_cli_send_carries_what_recovery_found(start_bot, fake_slack, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    record = bot.ledger.reserve(  # `smsbot send` without --channel died right after recording it
        request_key="cli:orphan",
        source="cli",
        team_id=None,
        user_id="UALICE",
        channel_id=None,
        receivers=["+34600000001"],
        message="left behind",
        sender=None,
        lease_seconds=0,
    )

    assert bot.recover().reported == [record.id]

    shown = blocks_text(wait_for_dm(fake_slack))
    assert "*Update:* OVH had no trace of this send, so it was sent again" in shown
    assert "could not be reported when the SMS was sent from the command line" in shown
    assert "/invite" not in shown
    assert len(fake_ovh.jobs) == 1


def test_a_later_report_to_a_closed_channel_carries_what_recovery_found(start_bot, fake_slack, fake_ovh):
    bot = start_bot(unknown_grace_seconds=0)
    record = bot.ledger.reserve(  # a /sms in a private channel whose process died right after recording it
        request_key="command:orphan",
        source="command",
        team_id="T1",
        user_id="UALICE",
        channel_id="CPRIVATE",
        receivers=["+34600000001"],
        message="left behind",
        sender=None,
        lease_seconds=0,
    )
    fake_slack.not_in_channel = {"CPRIVATE"}

    assert bot.recover().reported == [record.id]

    shown = blocks_text(wait_for_dm(fake_slack))
    assert "*Update:* OVH had no trace of this send, so it was sent again" in shown
    assert "could not be reported when the SMS was sent, and I cannot post in its channel" in shown
    assert len(fake_ovh.jobs) == 1
    assert bot.ledger.get(record.id).audit_status is AuditStatus.PRIVATE
