"""OVH_ENDPOINT=simulator: the whole flow with no OVH account and no keys, nothing leaving the machine.

The end-to-end tests run the real process in both modes against the fake Slack only: there is no fake
OVH, the OVH keys are unset, and any HTTP the `ovh` client's `requests` session could make goes to a
proxy that does not answer (ALL_PROXY), so a send that reached for the network would fail.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.domain.errors import ConfigurationError
from bot.domain.records import JobOptions
from bot.ovh.account import OvhAccount
from bot.ovh.client import OvhClient
from bot.ovh.gateway import OvhGateway
from bot.ovh.simulator import SIMULATED_CREDITS
from bot.settings import Mode, load_settings
from bot.storage.ledger import Ledger
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode
from tests.harness import SIGNING_SECRET, SlackSender, all_sends, audit_thread, blocks_text
from tests.processes import HttpBotProcess, clean_env, free_port
from tests.test_socket_mode import SocketModeBot, acked, command_payload

CANNOT_RECEIVE = "+34600000999"  # the simulator's documented range: numbers ending in 999


@pytest.fixture
def dead_proxy() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def simulator_env(fake_slack: FakeSlack, sqlite_url: str, dead_proxy: str) -> dict[str, str]:
    """A newcomer's first .env: Slack, who may send, and OVH_ENDPOINT=simulator; no OVH key at all."""
    return {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": fake_slack.app_token,
        "SLACK_API_URL": fake_slack.api_url,
        "OVH_ENDPOINT": "simulator",
        "SMS_DEFAULT_REGION": "ES",
        "SMS_ALLOWED_USERS": "UALICE",
        "DATABASE_URL": sqlite_url,
        # `requests` (the ovh client) would go through this proxy, which does not answer; the Slack SDK
        # reads only the *_PROXY variables, so the fake Slack stays reachable.
        "ALL_PROXY": dead_proxy,
        "NO_PROXY": "",
    }


def simulated_settings(**env: str):
    return load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-1", "OVH_ENDPOINT": "simulator", "SMS_DEFAULT_REGION": "ES", **env},
        Mode.OFFLINE,
    )


# --- the simulated OVH, through the gateway and the account queries the bot uses ------------------------


def test_no_ovh_key_is_needed_in_simulator_mode_and_still_is_otherwise():
    settings = simulated_settings(SMS_DEFAULT_REGION="ES")
    assert settings.ovh_simulated
    assert settings.ovh_application_key == ""

    with pytest.raises(ConfigurationError) as refused:
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SMS_DEFAULT_REGION": "ES"}, Mode.OFFLINE)
    assert "OVH_APPLICATION_KEY is not set" in refused.value.user_message


def test_a_simulated_job_answers_like_ovh_job_ids_credits_and_invalid_receivers():
    client = OvhClient.from_settings(simulated_settings(OVH_SMS_SERVICE="sms-ab12345-1"))
    gateway, account = OvhGateway(client), OvhAccount(client)

    result = gateway.post(
        message="Hola", receivers=["+34600000001", "+34600000002", CANNOT_RECEIVE], tag="t-1"
    )

    assert result.service == "simulator"  # whatever OVH_SMS_SERVICE says: the name marks the send simulated
    assert len(result.job_ids) == 2 and len(set(result.job_ids)) == 2
    assert result.accepted == ["+34600000001", "+34600000002"]
    assert result.rejected == [CANNOT_RECEIVE]
    assert result.credits_used == 2.0  # one part for each receiver that takes SMS
    assert account.credits_left() == SIMULATED_CREDITS - 2
    long = gateway.post(message="á" * 100, receivers=["+34600000003"], tag="t-2")  # Unicode: 2 parts
    assert long.credits_used == 2.0
    assert account.credits_left() == SIMULATED_CREDITS - 4


def test_a_simulated_scheduled_job_waits_in_the_queue_until_cancelled():
    client = OvhClient.from_settings(simulated_settings())
    gateway, account = OvhGateway(client), OvhAccount(client)
    later = JobOptions(send_at=datetime.now(UTC) + timedelta(hours=1))

    job = gateway.post(message="Luego", receivers=["+34600000001"], tag="t-1", options=later)

    [job_id] = job.job_ids
    assert client.call("get", "/sms/simulator/jobs") == [job_id]
    assert client.call("get", "/sms/simulator/outgoing", tag="t-1") == []  # not sent yet
    assert account.credits_left() == SIMULATED_CREDITS - 1
    assert gateway.cancel_job(job.service, job_id) is True
    assert account.credits_left() == SIMULATED_CREDITS
    assert gateway.cancel_job(job.service, job_id) is False


def test_a_number_phonenumbers_does_not_know_as_mobile_is_an_invalid_receiver():
    gateway = OvhGateway(OvhClient.from_settings(simulated_settings()))

    # A Spanish landline and a number too short to exist: OVH would list both as invalid.
    result = gateway.post(message="Hola", receivers=["+34910000001", "+3460000"], tag="t-3")

    assert (result.accepted, result.rejected, result.job_ids) == ([], ["+34910000001", "+3460000"], [])
    assert result.credits_used == 0


def test_recovery_finds_a_simulated_send_by_its_tag_and_dry_runs_get_an_estimate():
    client = OvhClient.from_settings(simulated_settings())
    gateway, account = OvhGateway(client), OvhAccount(client)
    since = datetime.now(UTC) - timedelta(seconds=1)
    sent = gateway.post(message="Hola", receivers=["+34600000001"], tag="smsbot-7")

    trace = account.trace("smsbot-7", ["+34600000001"], "Hola", since)
    nothing = account.trace("smsbot-8", ["+34600000001"], "Hola", since)

    assert trace.found and trace.sms_ids == sent.job_ids and trace.receivers == ["+34600000001"]
    assert not nothing.found
    estimate = account.estimate("Hola")
    assert (estimate.parts, estimate.characters_class) == (1, "7bits")
    assert account.current_credential().status == "validated"


# --- the real process, in both modes ----------------------------------------------------------------------


def assert_simulated_thread(parent: dict, reply: dict) -> None:
    for message in (parent, reply):
        assert "Simulated send: no SMS was sent" in blocks_text(message)
    assert parent["text"].startswith("[Simulated] <@UALICE> sent an SMS to")
    reply_text = blocks_text(reply)
    assert "*Sent by the simulator*" in reply_text
    assert "*OVH job id:* 9" in reply_text
    assert f"*Credits used:* 1 (estimated 2)   *Credits left:* {SIMULATED_CREDITS - 1:g}" in reply_text
    assert "*Accepted (1):* +34 600 00 00 01" in reply_text
    assert "*Rejected by OVH (1):* +34 600 00 09 99" in reply_text
    assert "service `simulator`" in reply_text


def test_http_mode_runs_the_whole_flow_on_the_simulator(simulator_env, fake_slack, tmp_path):
    bot = HttpBotProcess(simulator_env, tmp_path, "simulator-http")
    try:
        bot.wait_ready()
        answer = SlackSender(bot.url).command(f"+34600000001 {CANNOT_RECEIVE} Hola desde el simulador")

        assert answer.status == 200
        [(parent, reply)] = audit_thread(fake_slack)
    finally:
        bot.stop()
    assert_simulated_thread(parent, reply)
    assert "Traceback" not in bot.log()


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode() as fake:
        fake_slack.socket_mode_url = fake.new_url
        yield fake


def test_socket_mode_runs_the_whole_flow_on_the_simulator(simulator_env, fake_slack, socket_mode, tmp_path):
    env = {k: v for k, v in simulator_env.items() if k != "SLACK_SIGNING_SECRET"}
    bot = SocketModeBot(env, tmp_path, socket_mode)
    try:
        bot.wait_connected()
        envelope_id = socket_mode.deliver(
            "slash_commands", command_payload(f"+34600000001 {CANNOT_RECEIVE} Hola por socket", "COPS")
        )

        acked(socket_mode, envelope_id)
        [(parent, reply)] = audit_thread(fake_slack)
    finally:
        bot.stop()
    assert_simulated_thread(parent, reply)
    engine = sa.create_engine(simulator_env["DATABASE_URL"])
    try:
        [record] = all_sends(Ledger(engine))
    finally:
        engine.dispose()
    assert record.simulated and record.status == "sent"


def test_smsbot_send_and_check_say_the_simulator_is_in_use(simulator_env, fake_slack, tmp_path):
    def smsbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=tmp_path,
            env=clean_env(simulator_env),
            capture_output=True,
            text=True,
            timeout=60,
        )

    sent = smsbot("send", "+34600000001", "Hola", "--user", "UALICE", "--channel", "COPS")
    check = smsbot("check")

    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "Simulated (OVH_ENDPOINT=simulator): no SMS was sent" in sent.stdout
    [(parent, reply)] = audit_thread(fake_slack)
    assert "Simulated send: no SMS was sent" in blocks_text(parent) + blocks_text(reply)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "! simulator: OVH_ENDPOINT=simulator: OVH is simulated on this machine." in check.stdout
    assert "OVH_APPLICATION_KEY" not in check.stdout.split("\nOVH\n")[0]  # no key asked for in Settings


def test_the_simulator_answers_what_the_delivery_follower_reads(start_bot, fake_slack):
    from tests.delivery_support import run_pass, status_text
    from tests.harness import SlackSender, settled_records

    bot = start_bot(OVH_ENDPOINT="simulator")
    SlackSender(bot.url).command("+34600000001 Hola")
    settled_records(bot)

    report = run_pass(bot)

    assert not report.rate_limited and report.reads == 2  # the replies (none), then the SMS
    assert "1 of 1 delivered" in status_text(fake_slack)
