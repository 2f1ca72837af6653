"""OVH's push in HTTP mode: `/ovh/callback/<OVH_CALLBACK_TOKEN>`, GET or POST. A wrong token is a 404 and
changes nothing; a right one is only a hint to read that SMS from OVH, at most once per pass."""

from __future__ import annotations

import time

import pytest
import requests
import sqlalchemy as sa

from bot.storage.deliveries import deliveries
from tests.delivery_support import Clock, run_pass, status_text
from tests.fakes.ovh_api import PENDING, Delivery
from tests.harness import settled_records

TOKEN = "cb-token-0123456789abcdefghijkl"
DELIVERED = Delivery(receipt=1, ptt=4, sent_after=1.0, delivered_after=2.0)


@pytest.fixture
def bot(start_bot):
    return start_bot(OVH_CALLBACK_TOKEN=TOKEN)


def _pending_send(bot, slack, fake_ovh) -> int:
    fake_ovh.delivery = PENDING
    slack.command("+34600000001 Hola")
    settled_records(bot)
    run_pass(bot)
    [sms_id] = fake_ovh.sms_ids()
    return sms_id


def _next_checks(bot) -> list:
    with bot.core.engine.connect() as conn:
        return list(conn.execute(sa.select(deliveries.c.next_check_at, deliveries.c.state)))


def _outgoing_reads(fake_ovh) -> int:
    return len([r for r in fake_ovh.requests if "/outgoing/" in r.path])


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_callback_with_the_right_token_has_the_sms_read_at_the_next_pass(
    bot, slack, fake_slack, fake_ovh, method
):
    Clock(bot, fake_ovh)
    sms_id = _pending_send(bot, slack, fake_ovh)
    fake_ovh.set_delivery(sms_id, DELIVERED)
    assert run_pass(bot).reads == 1  # the SMS is not due yet: only the replies were listed
    params = {"id": str(sms_id), "ptt": "4", "date": "2026-12-01 10:00:00", "description": "delivered"}

    url = f"{bot.url}/ovh/callback/{TOKEN}"
    answer = (
        requests.get(url, params=params, timeout=5)
        if method == "GET"
        else requests.post(url, data=params, timeout=5)
    )

    assert answer.status_code == 200
    run_pass(bot)
    assert "1 of 1 delivered" in status_text(fake_slack)


def test_a_callback_is_a_hint_only_what_ovh_says_is_shown(bot, slack, fake_slack, fake_ovh):
    Clock(bot, fake_ovh)
    sms_id = _pending_send(bot, slack, fake_ovh)  # OVH still says pending
    params = {
        "id": str(sms_id),
        "ptt": "4",
        "description": "Message delivered",
        "descriptionDlr": "DELIVERED",
    }

    assert requests.get(f"{bot.url}/ovh/callback/{TOKEN}", params=params, timeout=5).status_code == 200
    reads = _outgoing_reads(fake_ovh)
    run_pass(bot)

    assert _outgoing_reads(fake_ovh) == reads + 1  # read from OVH ...
    assert "0 of 1 delivered, 1 pending" in status_text(fake_slack)  # ... and OVH's word is what shows


@pytest.mark.parametrize(
    "path",
    [
        "/ovh/callback/wrong-token-0123456789abcdefgh",
        f"/ovh/callback/{TOKEN[:-1]}",
        f"/ovh/callback/{TOKEN}x",
        "/ovh/callback/",
        f"/ovh/callback/{TOKEN}/extra",
    ],
)
def test_a_callback_with_a_wrong_token_is_a_404_and_changes_nothing(bot, slack, fake_slack, fake_ovh, path):
    Clock(bot, fake_ovh)
    sms_id = _pending_send(bot, slack, fake_ovh)
    fake_ovh.set_delivery(sms_id, DELIVERED)
    before = _next_checks(bot)

    for method in ("GET", "POST"):
        answer = requests.request(method, f"{bot.url}{path}", params={"id": str(sms_id)}, timeout=5)
        assert answer.status_code == 404 and answer.json() == {"error": "not found"}

    assert _next_checks(bot) == before
    reads = _outgoing_reads(fake_ovh)
    run_pass(bot)
    assert _outgoing_reads(fake_ovh) == reads
    assert "0 of 1 delivered" in status_text(fake_slack)


def test_without_a_token_set_every_callback_is_a_404(start_bot, fake_ovh):
    bot = start_bot()
    assert requests.get(f"{bot.url}/ovh/callback/{TOKEN}", params={"id": "1"}, timeout=5).status_code == 404


def test_a_callback_for_an_sms_not_followed_or_without_an_id_reads_nothing(bot, slack, fake_ovh):
    Clock(bot, fake_ovh)
    _pending_send(bot, slack, fake_ovh)
    for params in ({"id": "999999"}, {}, {"id": "abc"}, {"id": "1" * 40}):
        assert requests.get(f"{bot.url}/ovh/callback/{TOKEN}", params=params, timeout=5).status_code == 200
    reads = _outgoing_reads(fake_ovh)
    run_pass(bot)
    assert _outgoing_reads(fake_ovh) == reads


def test_a_flood_of_callbacks_makes_one_read_per_sms_per_pass(bot, slack, fake_slack, fake_ovh):
    Clock(bot, fake_ovh)
    sms_id = _pending_send(bot, slack, fake_ovh)
    session = requests.Session()

    for _ in range(200):
        assert (
            session.get(f"{bot.url}/ovh/callback/{TOKEN}", params={"id": str(sms_id)}, timeout=5).status_code
            == 200
        )
    reads = _outgoing_reads(fake_ovh)
    run_pass(bot)
    run_pass(bot)

    assert _outgoing_reads(fake_ovh) == reads + 1


def test_the_running_loop_updates_the_thread_soon_after_a_callback(start_bot, slack, fake_slack, fake_ovh):
    bot = start_bot(OVH_CALLBACK_TOKEN=TOKEN, SMS_DELIVERY_POLL_SECONDS="3600")
    sms_id = _pending_send(bot, slack, fake_ovh)
    bot.bot.start_delivery()
    loop = bot.bot.delivery_loop
    assert loop.wait_for_pass(0)
    fake_ovh.set_delivery(sms_id, DELIVERED)

    passes = loop.passes
    requests.get(f"{bot.url}/ovh/callback/{TOKEN}", params={"id": str(sms_id)}, timeout=5)

    assert loop.wait_for_pass(passes)  # woken long before its hour
    deadline = time.monotonic() + 10
    while "1 of 1 delivered" not in status_text(fake_slack) and time.monotonic() < deadline:
        loop.wait_for_pass(loop.passes, timeout=1)
    assert "1 of 1 delivered" in status_text(fake_slack)


def test_the_loop_stops_with_the_bot(start_bot, fake_ovh):
    bot = start_bot(SMS_DELIVERY_POLL_SECONDS="3600")
    bot.bot.start_delivery()
    loop = bot.bot.delivery_loop
    assert loop.wait_for_pass(0)

    bot.bot.close()

    assert not loop.running
