"""The simulator answers every question the bot asks as OVH does (`smsbot check`, dry runs, recovery), and
refuses what OVH refuses, with OVH's exceptions, so the adapters run unchanged on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ovh import exceptions as ovh_errors

from bot.domain.errors import DeliveryError
from bot.ovh.account import OvhAccount
from bot.ovh.client import OvhClient
from bot.ovh.deliveries import OvhDeliveries, SmsReading
from bot.ovh.errors import REQUIRED_RULES
from bot.ovh.gateway import OvhGateway
from bot.ovh.simulator import SIMULATED_CREDITS, SimulatedOvh, simulated_rate
from bot.settings import Mode, load_settings
from tests.fakes.ovh_api import answer_problems


def simulated() -> OvhClient:
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-1", "OVH_ENDPOINT": "simulator", "SMS_DEFAULT_REGION": "ES"}, Mode.OFFLINE
    )
    return OvhClient.from_settings(settings)


def test_the_key_is_validated_for_the_bots_rules_and_never_expires():
    credential = OvhAccount(simulated()).current_credential()

    assert credential.status == "validated" and credential.expiration is None
    assert [f"{method} {path}" for method, path in credential.rules] == [
        *REQUIRED_RULES,
        "POST /sms/estimate",
        "DELETE /sms/*/jobs/*",  # cancelling a scheduled send
    ]


def test_the_account_has_one_enabled_service_with_its_credits():
    client = simulated()
    account = OvhAccount(client)

    assert account.list_services() == ["simulator"]
    assert client.service_name() == "simulator"
    service = account.account("simulator")
    assert (service.name, service.status, service.credits_left) == ("simulator", "enable", SIMULATED_CREDITS)
    assert account.account("sms-ab12345-1") is None  # no such service on this account
    assert account.sender_status("simulator", "ACME") == "enable"
    assert OvhGateway(client).credits_left() == SIMULATED_CREDITS


def test_estimates_count_as_the_bot_does_with_and_without_the_stop_clause():
    client = simulated()

    plain = OvhAccount(client, no_stop_clause=True).estimate("Hola")
    with_stop = OvhAccount(client, no_stop_clause=False).estimate("Hola")
    accents = OvhAccount(client).estimate("¿Qué tal? 😀")

    assert (plain.parts, plain.characters, plain.characters_class) == (1, 4, "7bits")
    assert with_stop.characters > plain.characters and with_stop.characters_class == "7bits"
    assert (accents.parts, accents.characters_class) == (1, "unicode")
    assert simulated_rate("ES") == simulated_rate("FR") == 1.0


def test_a_sent_sms_reads_back_as_ovh_lists_it():
    client = simulated()
    since = datetime.now(UTC) - timedelta(seconds=1)
    sent = OvhGateway(client).post(message="Hola", receivers=["+34600000001"], tag="smsbot-3")
    [sms_id] = sent.job_ids

    sms = client.call("get", f"/sms/simulator/outgoing/{sms_id}")

    assert (sms["id"], sms["receiver"], sms["message"], sms["tag"], sms["credits"]) == (
        sms_id,
        "+34600000001",
        "Hola",
        "smsbot-3",
        1.0,
    )
    assert sms["deliveryReceipt"] == 1
    assert since <= datetime.fromisoformat(sms["creationDatetime"]) <= datetime.now(UTC)
    assert client.call("get", "/sms/simulator/outgoing") == [sms_id]
    assert client.call("get", "/sms/simulator/outgoing", tag="smsbot-4") == []
    assert client.call("get", "/sms/simulator/jobs") == []  # sent at once: nothing waits in the queue


def test_what_ovh_refuses_the_simulator_refuses_with_ovhs_exceptions():
    simulator = SimulatedOvh(credits=1.5)

    with pytest.raises(ovh_errors.BadParametersError) as empty:
        simulator.post("/sms/simulator/jobs", message="", receivers=["+34600000001"])
    assert str(empty.value) == "Missing parameter: message"
    with pytest.raises(ovh_errors.BadParametersError) as poor:
        simulator.post("/sms/simulator/jobs", message="Hola", receivers=["+34600000001", "+34600000002"])
    assert str(poor.value) == "Not enough credits to send this message"
    assert simulator.credits_left == 1.5 and simulator.sent == {}
    for path in ("/sms/sms-ab12345-1", "/sms/simulator/outgoing/1", "/sms/simulator/unknown", "/me"):
        with pytest.raises(ovh_errors.ResourceNotFoundError, match="does not exist in the simulator"):
            simulator.get(path)
    with pytest.raises(ovh_errors.ResourceNotFoundError) as unknown:
        simulator.get("/sms/simulator/unknown")
    assert (
        str(unknown.value) == "The requested object (/sms/simulator/unknown) does not exist in the simulator"
    )
    with pytest.raises(ovh_errors.ResourceNotFoundError):
        simulator.post("/sms/simulator/receivers", message="Hola")
    assert simulator.time_delta == 0


def test_a_send_beyond_the_credits_left_is_refused_for_credits():
    client = simulated()
    gateway = OvhGateway(client)
    client.raw.credits_left = 1.0

    with pytest.raises(DeliveryError) as refused:
        gateway.post(message="Hola", receivers=["+34600000001", "+34600000002"], tag="smsbot-5")

    assert refused.value.code == "no_credits"
    assert gateway.post(message="Hola", receivers=["+34600000001"], tag="smsbot-6").credits_used == 1.0
    assert gateway.credits_left() == 0.0


def test_a_job_answer_and_a_sender_have_ovhs_fields():
    simulator = SimulatedOvh()

    answer = simulator.post(
        "/sms/simulator/jobs", message="Hola", receivers=["+34600000001", "+34910000001"], tag="t-9"
    )

    assert answer == {
        "ids": [90_000_001],
        "validReceivers": ["+34600000001"],
        "invalidReceivers": ["+34910000001"],
        "totalCreditsRemoved": 1.0,
        "tag": "t-9",
    }
    assert simulator.get("/sms/simulator/senders/ACME") == {
        "sender": "ACME",
        "status": "enable",
        "type": "alpha",
    }


def test_the_stop_clause_is_paid_for_when_ovh_adds_it():
    client = simulated()
    message = "a" * 150  # one SMS alone; OVH's STOP mention makes it two

    without = OvhGateway(client, no_stop_clause=True).post(
        message=message, receivers=["+34600000001"], tag="t-1"
    )
    with_stop = OvhGateway(client, no_stop_clause=False).post(
        message=message, receivers=["+34600000001"], tag="t-2"
    )

    assert (without.credits_used, with_stop.credits_used) == (1.0, 2.0)


def _fits_ovhs_schema(method: str, path: str, answer):
    assert answer_problems(method, path, answer) == [], f"{method} {path}"
    return answer


def test_every_answer_has_the_fields_and_types_of_ovhs_schema():
    simulator = SimulatedOvh()
    sent = simulator.post(
        "/sms/simulator/jobs", message="Hola", receivers=["+34600000001"], tag="t-1", sender="ACME"
    )
    later = simulator.post(
        "/sms/simulator/jobs", message="Luego", receivers=["+34600000002"], tag="t-2", differedPeriod=60
    )
    [sms_id], [job_id] = sent["ids"], later["ids"]

    _fits_ovhs_schema("POST", "/sms/simulator/jobs", sent)
    _fits_ovhs_schema("POST", "/sms/simulator/jobs", later)
    _fits_ovhs_schema("POST", "/sms/estimate", simulator.post("/sms/estimate", message="Qué tal"))
    for path in (
        "/sms",
        "/sms/simulator",
        "/sms/simulator/outgoing",
        f"/sms/simulator/outgoing/{sms_id}",
        "/sms/simulator/jobs",
        f"/sms/simulator/jobs/{job_id}",
        "/sms/simulator/incoming",
        "/sms/simulator/senders",
        "/sms/simulator/senders/ACME",
    ):
        _fits_ovhs_schema("GET", path, simulator.get(path))
    ptt = _fits_ovhs_schema("GET", "/sms/ptts", simulator.get("/sms/ptts", ptt=0))
    assert (ptt["description"], ptt["duration"]) == ("Message delivered", "permanent")
    _fits_ovhs_schema(
        "DELETE", f"/sms/simulator/jobs/{job_id}", simulator.delete(f"/sms/simulator/jobs/{job_id}")
    )


def test_a_delivery_code_is_described_in_ovhs_words():
    deliveries = OvhDeliveries(simulated())

    assert deliveries.ptt_description(0) == "Message delivered"


def test_an_sms_keeps_the_sender_it_was_sent_from():
    simulator = SimulatedOvh()
    [named] = simulator.post(
        "/sms/simulator/jobs", message="Hola", receivers=["+34600000001"], sender="ACME"
    )["ids"]
    [default] = simulator.post("/sms/simulator/jobs", message="Hola", receivers=["+34600000002"])["ids"]

    assert simulator.get(f"/sms/simulator/outgoing/{named}")["sender"] == "ACME"
    assert simulator.get(f"/sms/simulator/outgoing/{default}")["sender"] == ""  # the account's default


def test_a_scheduled_job_waits_in_the_queue_until_taken_back_with_its_credits():
    client = simulated()
    simulator = client.raw
    gateway = OvhGateway(client)
    deliveries = OvhDeliveries(client)
    [job_id] = simulator.post(
        "/sms/simulator/jobs", message="a" * 200, receivers=["+34600000001"], differedPeriod=60
    )["ids"]  # two SMS parts: two credits
    assert simulator.credits_left == SIMULATED_CREDITS - 2

    queued = simulator.get(f"/sms/simulator/jobs/{job_id}")
    assert (queued["id"], queued["receiver"], queued["credits"]) == (job_id, "+34600000001", 2.0)
    assert simulator.get("/sms/simulator/jobs") == [job_id]
    assert simulator.get("/sms/simulator/outgoing") == []  # not sent yet
    assert deliveries.read_sms("simulator", job_id) == SmsReading(found=True, queued=True, reads=2)

    assert gateway.cancel_job("simulator", job_id) is True
    assert simulator.credits_left == SIMULATED_CREDITS
    assert simulator.get("/sms/simulator/jobs") == []
    assert gateway.cancel_job("simulator", job_id) is False  # gone: nothing more to take back
    assert simulator.credits_left == SIMULATED_CREDITS
    assert deliveries.read_sms("simulator", job_id) == SmsReading(found=False, reads=2)


def test_a_job_already_sent_or_unknown_cannot_be_taken_back():
    simulator = SimulatedOvh()
    [sms_id] = simulator.post("/sms/simulator/jobs", message="Hola", receivers=["+34600000001"])["ids"]

    for path in (
        f"/sms/simulator/jobs/{sms_id}",  # sent at once, never queued
        "/sms/simulator/jobs/12345",
        f"/sms/simulator/outgoing/{sms_id}",  # OVH takes back only what waits in the queue
        "/sms/sms-ab12345-1/jobs/1",
    ):
        with pytest.raises(ovh_errors.ResourceNotFoundError):
            simulator.delete(path)
    with pytest.raises(ovh_errors.ResourceNotFoundError):
        simulator.get(f"/sms/simulator/jobs/{sms_id}")
    assert simulator.credits_left == SIMULATED_CREDITS - 1
    assert simulator.get("/sms/simulator/outgoing") == [sms_id]
