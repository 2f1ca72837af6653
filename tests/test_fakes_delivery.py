"""The fake OVH's delivery side: SMS moving through states on the fake's clock, purges, replies, OVH's
words for a ptt code, the account's callback, and garbage answers; all per OVH's schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import ovh
import pytest
from ovh import exceptions as ovh_errors

from tests.fakes.ovh_api import PENDING, Delivery, FakeOvh, timeline
from tests.test_fakes import SERVICE, ovh_client

DELIVERED = Delivery(receipt=1, ptt=4, sent_after=1.0, delivered_after=90.0)


@pytest.fixture
def fake_ovh() -> Iterator[FakeOvh]:
    with FakeOvh() as fake:
        yield fake


def _send(client: ovh.Client, *receivers: str) -> list[int]:
    return client.post(f"/sms/{SERVICE}/jobs", message="hi", receivers=list(receivers), tag="t")["ids"]


def test_an_sms_moves_through_its_timeline_as_the_fakes_clock_moves(fake_ovh: FakeOvh) -> None:
    fake_ovh.delivery = timeline((0, PENDING), (60, DELIVERED))
    client = ovh_client(fake_ovh)
    [sms_id] = _send(client, "+34600000001")

    first = client.get(f"/sms/{SERVICE}/outgoing/{sms_id}")
    assert (first["deliveryReceipt"], first["deliveredAt"]) == (4, None)
    # The fake's clock is the real one plus `advance`: half a minute of margin either side, so a slow
    # machine (seconds between the send and a read) cannot move the SMS on early.
    fake_ovh.advance(30)
    assert client.get(f"/sms/{SERVICE}/outgoing/{sms_id}")["deliveryReceipt"] == 4
    fake_ovh.advance(31)
    later = client.get(f"/sms/{SERVICE}/outgoing/{sms_id}")
    assert (later["deliveryReceipt"], later["ptt"]) == (1, 4)
    created = datetime.fromisoformat(later["creationDatetime"])
    assert datetime.fromisoformat(later["deliveredAt"]) - created == timedelta(seconds=90)


def test_a_purged_sms_is_a_404(fake_ovh: FakeOvh) -> None:
    client = ovh_client(fake_ovh)
    [sms_id] = _send(client, "+34600000001")
    assert fake_ovh.sms_ids("+34600000001") == [sms_id]

    fake_ovh.purge(sms_id)

    with pytest.raises(ovh_errors.ResourceNotFoundError):
        client.get(f"/sms/{SERVICE}/outgoing/{sms_id}")
    assert fake_ovh.sms_ids() == []


def test_ptts_are_described_and_need_their_code(fake_ovh: FakeOvh) -> None:
    client = ovh_client(fake_ovh)
    assert client.get("/sms/ptts", ptt=24) == {
        "comment": "",
        "description": "Subscriber absent",
        "duration": "permanent",
    }
    with pytest.raises(ovh_errors.ResourceNotFoundError):
        client.get("/sms/ptts", ptt=99)
    with pytest.raises(ovh_errors.BadParametersError):
        client.get("/sms/ptts")


def test_replies_are_listed_since_a_date_and_read_one_by_one(fake_ovh: FakeOvh) -> None:
    client = ovh_client(fake_ovh)
    old = fake_ovh.receive("+34600000001", "old", ago=7200)
    new = fake_ovh.receive("0034600000002", "Sí, voy 🚗")
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    assert client.get(f"/sms/{SERVICE}/incoming") == [old, new]
    assert client.get(f"/sms/{SERVICE}/incoming", **{"creationDatetime.from": since}) == [new]
    assert client.get(f"/sms/{SERVICE}/incoming", sender="+34600000001") == [old]
    detail = client.get(f"/sms/{SERVICE}/incoming/{new}")
    assert {k: detail[k] for k in ("id", "sender", "message", "tag", "credits")} == {
        "id": new,
        "sender": "0034600000002",
        "message": "Sí, voy 🚗",
        "tag": "",
        "credits": 0.0,
    }
    assert datetime.fromisoformat(detail["creationDatetime"]).utcoffset() == timedelta(hours=1)
    with pytest.raises(ovh_errors.ResourceNotFoundError):
        client.get(f"/sms/{SERVICE}/incoming/1")


def test_the_callback_is_set_with_put_and_read_back(fake_ovh: FakeOvh) -> None:
    client = ovh_client(fake_ovh)
    with pytest.raises(ovh_errors.NotGrantedCall):
        client.put(f"/sms/{SERVICE}", callBack="https://bot.example/ovh/callback/x")
    fake_ovh.rules.append(("PUT", "/sms/*"))

    assert client.put(f"/sms/{SERVICE}", callBack="https://bot.example/ovh/callback/x") is None

    assert client.get(f"/sms/{SERVICE}")["callBack"] == "https://bot.example/ovh/callback/x"
    assert fake_ovh.callback_url == "https://bot.example/ovh/callback/x"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"callback": "https://x"}, "Invalid parameter(s): callback"),
        ({"callBack": 3}, "[callBack] Given data (3) is not a string"),
        ({"smsResponse": "cgi"}, "is not an object of sms.Response"),
        ({"name": "renamed"}, "Invalid parameter(s): name"),  # read-only in OVH's schema
    ],
)
def test_the_account_update_is_checked_against_ovhs_schema(fake_ovh: FakeOvh, body, problem) -> None:
    fake_ovh.rules.append(("PUT", "/sms/*"))
    client = ovh_client(fake_ovh)
    with pytest.raises(ovh_errors.BadParametersError) as refused:
        client.put(f"/sms/{SERVICE}", **body)
    assert problem in str(refused.value)


def test_garbage_is_answered_once_with_a_200(fake_ovh: FakeOvh) -> None:
    client = ovh_client(fake_ovh)
    [sms_id] = _send(client, "+34600000001")
    fake_ovh.garbage_next(["garbage"], path_contains="/outgoing/")

    assert client.get(f"/sms/{SERVICE}/outgoing/{sms_id}") == ["garbage"]
    assert client.get(f"/sms/{SERVICE}/outgoing/{sms_id}")["id"] == sms_id


def test_the_schema_copy_holds_ovhs_definitions_of_the_delivery_routes() -> None:
    from pathlib import Path

    schema = json.loads((Path(__file__).parent / "fakes" / "ovh_sms_schema.json").read_text())
    routes = schema["routes"]
    assert routes["GET /sms/ptts"] == {"ptt": {"in": "query", "required": True, "type": "long"}}
    assert set(routes["GET /sms/{serviceName}/incoming"]) == {
        "creationDatetime.from",
        "creationDatetime.to",
        "sender",
        "serviceName",
        "tag",
    }
    assert routes["PUT /sms/{serviceName}"]["callBack"] == {"in": "body", "required": False, "type": "string"}
