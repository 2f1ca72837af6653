"""`smsbot send`: from the terminal through the same checks, ledger, OVH call and Slack audit as `/sms`."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain.records import AuditStatus, SendStatus
from bot.storage.db import create_engine
from bot.storage.ledger import Ledger
from tests.harness import all_sends, audit_thread, blocks_text
from tests.test_cli_check import Cli, kept_logging, line


@pytest.fixture
def cli(monkeypatch, capsys, tmp_path) -> Iterator[Cli]:
    with kept_logging():
        yield Cli(monkeypatch, capsys, tmp_path)


def ledger_rows(url: str) -> list:
    if not Path(url.removeprefix("sqlite:///")).exists():
        return []  # not even created
    engine = create_engine(url)
    try:
        return all_sends(Ledger(engine))
    finally:
        engine.dispose()


def test_a_send_is_recorded_sent_and_posted_in_the_channel(cli, env, sqlite_url, fake_ovh, fake_slack):
    outcome = cli("send", "+34600000001", "Hola equipo", "--user", "UALICE", "--channel", "COPS", env=env)

    assert outcome.code == 0, outcome.err
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == ["+34600000001"]
    assert job.body["message"] == "Hola equipo"
    [record] = ledger_rows(sqlite_url)
    assert record.source == "cli"
    assert record.request_key.startswith("cli:")
    assert (record.user_id, record.channel_id) == ("UALICE", "COPS")
    assert record.status is SendStatus.SENT
    assert record.ovh_job_ids == job.ids
    assert record.audit_status is AuditStatus.THREAD
    assert job.tag == record.tag

    assert (
        line(outcome.out, "✓ Sent:")
        == f"✓ Sent: send #{record.id} (OVH tag {record.tag}, service sms-tt12345-1)"
    )
    assert line(outcome.out, "OVH job id:") == f"OVH job id: {job.ids[0]}"
    assert line(outcome.out, "accepted (1):") == "accepted (1): +34600000001"
    assert line(outcome.out, "credits used:") == "credits used: 1, left: 99"
    assert line(outcome.out, "Audit thread posted in COPS.")

    [(parent, reply)] = audit_thread(fake_slack)
    assert "<@UALICE> sent an SMS to +34 600 00 00 01" in blocks_text(parent)
    assert f"*OVH job id:* {job.ids[0]}" in blocks_text(reply)
    assert record.audit_ts == reply["thread_ts"]


def test_several_receivers_as_arguments_and_comma_lists(cli, env, fake_ovh):
    outcome = cli(
        "send",
        "+34600000001",
        "+34600000002,+34600000003",
        "+34 600 00 00 04",
        "600000005",
        "Server down",
        "--user",
        "UALICE",
        env=env,
    )

    assert outcome.code == 0, outcome.err
    [job] = fake_ovh.jobs
    assert job.body["receivers"] == [f"+3460000000{n}" for n in range(1, 6)]
    assert job.body["message"] == "Server down"


def test_without_a_channel_the_user_gets_the_result_privately(cli, env, sqlite_url, fake_slack):
    outcome = cli("send", "+34600000001", "Hola", "--user", "UALICE", env=env)

    assert outcome.code == 0
    assert (
        line(outcome.out, "No --channel:")
        == "No --channel: UALICE got the result as a direct message from the app."
    )
    [dm] = fake_slack.calls_to("chat.postMessage")
    assert dm["channel"] == "UALICE"
    [record] = ledger_rows(sqlite_url)
    assert record.audit_status is AuditStatus.PRIVATE


def test_the_message_can_come_from_standard_input(cli, env, fake_ovh, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Line one\nline two\n"))

    outcome = cli("send", "+34600000001", "-", "--user", "UALICE", env=env)

    assert outcome.code == 0
    assert fake_ovh.jobs[0].body["message"] == "Line one\nline two"


def test_a_person_the_policy_refuses_gets_exit_2_and_nothing_is_sent(
    cli, env, sqlite_url, fake_ovh, fake_slack
):
    outcome = cli("send", "+34600000001", "Hola", "--user", "UBOB", "--channel", "COPS", env=env)

    assert outcome.code == 2
    assert line(outcome.err, "✗ Not sent:").startswith(
        "✗ Not sent: You are not allowed to send SMS with this bot."
    )
    assert fake_ovh.jobs == []
    assert ledger_rows(sqlite_url) == []
    assert fake_slack.calls_to("chat.postMessage") == []


def test_channel_rules_apply_to_the_cli_too(cli, env, fake_ovh):
    rules = env | {"SMS_ALLOWED_CHANNELS": "COPS"}

    refused = cli("send", "+34600000001", "Hola", "--user", "UALICE", env=rules)
    assert refused.code == 2
    assert "give --channel with one of those channels" in refused.err

    allowed = cli("send", "+34600000001", "Hola", "--user", "UALICE", "--channel", "COPS", env=rules)
    assert allowed.code == 0
    assert len(fake_ovh.jobs) == 1


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["+3460000", "Hola"], "✗ Not sent: `+3460000` is too short"),
        (["+34600000001", "x" * 919], "✗ Not sent: The message is 919 characters (7 SMS); the limit is 918"),
        (
            ["+34600000001", "+34600000002"],
            "✗ Not sent: the last argument is the message, but `+34600000002`",
        ),
        (["+34900000001", "Hola"], "✗ Not sent: +34 900 000 001 is a toll-free number"),
    ],
    ids=["bad number", "too long", "no message", "not a mobile"],
)
def test_bad_input_exits_2_and_sends_nothing(cli, env, sqlite_url, fake_ovh, argv, error):
    outcome = cli("send", *argv, "--user", "UALICE", env=env)

    assert outcome.code == 2
    assert line(outcome.err, "✗ Not sent:").startswith(error)
    assert fake_ovh.jobs == []
    assert ledger_rows(sqlite_url) == []
    if "toll-free" not in error:  # the destination rules need the opt-out list; the rest is found first
        assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_a_message_without_receivers_is_a_usage_error(cli, env):
    outcome = cli("send", "Hola", "--user", "UALICE", env=env)

    assert outcome.code == 2
    assert "RECEIVER [RECEIVER ...] MESSAGE" in outcome.err
    assert "the following arguments are required: MESSAGE" in outcome.err


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("--user", "alice", "--user must be a Slack user id"),
        ("--channel", "#ops", "--channel must be a Slack channel id"),
        ("--user", "UBOB\n", "--user must be a Slack user id"),  # `$` alone would let the new line pass
        ("--channel", "COPS\n", "--channel must be a Slack channel id"),
    ],
    ids=["user", "channel", "user-newline", "channel-newline"],
)
def test_bad_ids_exit_2_before_touching_anything(cli, env, sqlite_url, option, value, error):
    argv = ["send", "+34600000001", "Hola", "--user", "UALICE", option, value]

    outcome = cli(*argv, env=env)

    assert outcome.code == 2
    assert line(outcome.err, "✗ Not sent:").startswith(f"✗ Not sent: {error}")
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()


def test_a_send_ovh_refuses_exits_1(cli, env, sqlite_url, fake_ovh):
    fake_ovh.fail_next(403, error_code="NOT_GRANTED_CALL", message="This call has not been granted")

    outcome = cli("send", "+34600000001", "Hola", "--user", "UALICE", env=env)

    assert outcome.code == 1
    assert line(outcome.out, "✗ Not sent:").startswith("✗ Not sent: send #1")
    assert line(outcome.out, "reason:").startswith("reason: OVH refused the call")
    [record] = ledger_rows(sqlite_url)
    assert record.status is SendStatus.FAILED


def test_a_send_with_an_unknown_outcome_exits_1(cli, env, sqlite_url, fake_ovh):
    fake_ovh.fail_next(500, after_processing=True)

    outcome = cli("send", "+34600000001", "Hola", "--user", "UALICE", env=env)

    assert outcome.code == 1
    assert line(outcome.out, "! Outcome unknown:").startswith("! Outcome unknown: send #1")
    [record] = ledger_rows(sqlite_url)
    assert record.status is SendStatus.UNKNOWN
    assert record.lease_until is not None  # released with a grace period, for recovery to look at OVH


# --- dry run ---------------------------------------------------------------------------------------------


def test_a_dry_run_checks_and_estimates_but_sends_and_records_nothing(
    cli, env, sqlite_url, fake_ovh, fake_slack
):
    fake_ovh.rates = {"es": 1.3}
    outcome = cli(
        "send",
        "+34600000001,+34600000002",
        "Hola equipo",
        "--user",
        "UALICE",
        "--channel",
        "COPS",
        "--dry-run",
        env=env,
    )

    assert outcome.code == 0, outcome.err
    out = outcome.out
    assert line(out, "Dry run:") == "Dry run: nothing was sent and no send was recorded."
    assert line(out, "✓ to 2 receivers:") == "✓ to 2 receivers: +34600000001, +34600000002"
    assert line(out, "✓ message:") == "✓ message: 11 characters, 1 SMS (GSM-7)"
    assert line(out, "✓ UALICE may send") == "✓ UALICE may send from COPS, within the sending limits"
    assert line(out, "estimated cost:") == (
        "estimated cost: 2.6 credits: 1 SMS part for each of 2 receivers (2 to ES at 1.3 credits per part)."
    )
    assert fake_ovh.rate_requests == ["es"]
    assert line(out, "OVH's own count:") == (
        "OVH's own count: not available (the key lacks the optional rule POST /sms/estimate)."
    )
    assert line(out, "credits left:") == "credits left: 100"
    assert fake_ovh.jobs == []
    assert not any(request.path.endswith("/jobs") for request in fake_ovh.requests)
    assert ledger_rows(sqlite_url) == []
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_dry_run_shows_ovhs_own_count_when_the_key_may_ask(cli, env, fake_ovh):
    fake_ovh.rules.append(("POST", "/sms/estimate"))
    message = "Servidor caído ☃ " * 5  # Unicode, 85 characters: 2 parts

    outcome = cli("send", "+34600000001", "+34600000002", message, "--user", "UALICE", "--dry-run", env=env)

    assert outcome.code == 0, outcome.err
    assert line(outcome.out, "✓ message:") == "✓ message: 85 characters, 2 SMS (Unicode)"
    assert line(outcome.out, "estimated cost:").startswith(
        "estimated cost: 4 credits: 2 SMS parts for each of 2"
    )
    assert line(outcome.out, "OVH's own count:") == "OVH's own count: 85 characters (unicode), 2 parts."
    assert fake_ovh.jobs == []


def test_a_dry_run_the_policy_refuses_exits_2(cli, env, sqlite_url, fake_ovh):
    outcome = cli("send", "+34600000001", "Hola", "--user", "UBOB", "--dry-run", env=env)

    assert outcome.code == 2
    assert line(outcome.err, "✗ Would not be sent:").startswith("✗ Would not be sent: You are not allowed")
    assert fake_ovh.jobs == []


def test_a_dry_run_over_the_daily_limit_exits_2(cli, env, sqlite_url):
    limited = env | {"SMS_LIMIT_USER_SMS_PER_DAY": "2"}
    assert cli("send", "+34600000001", "+34600000002", "Hola", "--user", "UALICE", env=limited).code == 0

    outcome = cli("send", "+34600000003", "Hola", "--user", "UALICE", "--dry-run", env=limited)

    assert outcome.code == 2
    assert "SMS_LIMIT_USER_SMS_PER_DAY" in line(outcome.err, "✗ Would not be sent:")
    assert len(ledger_rows(sqlite_url)) == 1


def test_a_dry_run_prices_each_receiver_at_its_countrys_rate(cli, env, fake_ovh):
    fake_ovh.rates = {"es": 1.3, "gb": 0.5}
    message = "Ça va? " * 25  # `Ç` is GSM-7: 175 characters, 2 parts

    outcome = cli(
        "send", "+34600000001,+34600000002,+447400123456", message, "--user", "UALICE", "--dry-run", env=env
    )

    assert outcome.code == 0, outcome.err
    assert line(outcome.out, "estimated cost:") == (
        "estimated cost: 6.2 credits: 2 SMS parts for each of 3 receivers "
        "(2 to ES at 1.3 credits per part, 1 to GB at 0.5 credits per part)."
    )
    assert sorted(fake_ovh.rate_requests) == ["es", "gb"]


def test_a_dry_run_without_ovhs_rates_says_it_assumed_one_credit_per_part(cli, env, fake_ovh):
    fake_ovh.fail_next(503, path_contains="/rates", times=10)

    outcome = cli("send", "+34600000001", "Hola", "--user", "UALICE", "--dry-run", env=env)

    assert outcome.code == 0, outcome.err
    assert line(outcome.out, "estimated cost:") == (
        "estimated cost: 1 credit: 1 SMS part for each of 1 receiver "
        "(1 to ES at 1 credit per part (assumed)). OVH's rates could not be read, so the estimate assumes "
        "one credit per part there."
    )
