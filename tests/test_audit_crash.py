"""One parent message per send, and one copy of each thread reply, whatever the crash point: the real
process is killed while Slack holds a message whose answer never came back, and the next one finds it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from bot.domain.records import AuditStatus
from tests.fakes.slack_api import FakeSlack
from tests.harness import SlackSender, after_the_send, blocks_text, orphan, settled_records
from tests.processes import wait_for


def _row(engine: sa.Engine) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT status, audit_status, audit_ts FROM sms_sends")).one()


def _audit_status(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT audit_status FROM sms_sends")).scalar_one_or_none()


def _parents(fake_slack: FakeSlack) -> list[dict]:
    return fake_slack.posted("COPS")


def _replies(fake_slack: FakeSlack) -> list[dict]:
    return [reply for parent in _parents(fake_slack) for reply in _audit_replies(fake_slack, parent["ts"])]


def _audit_replies(fake_slack, parent_ts: str) -> list[dict]:
    """The audit's posts in a thread (the delivery status message a running bot adds is not one)."""
    return [post for post in fake_slack.posted("COPS", parent_ts) if not after_the_send(post)]


def _is_parent(method: str, params: dict) -> bool:
    return method == "chat.postMessage" and not params.get("thread_ts")


def _is_reply(method: str, params: dict) -> bool:
    return method == "chat.postMessage" and bool(params.get("thread_ts"))


CRASH_POINTS = {
    # Slack stores the parent; the process dies before it hears back, so the ledger has no ts.
    "parent of a live send": (_is_parent, lambda fake: len(_parents(fake)) == 1),
    # The parent is answered; the reply is stored but its answer never comes.
    "reply of a live send": (_is_reply, lambda fake: len(_replies(fake)) == 1),
}


@pytest.mark.parametrize("crash_point", CRASH_POINTS)
def test_a_kill_while_slack_holds_an_unanswered_audit_post_leaves_one_parent_and_one_reply(
    crash_point, bot_processes, fake_slack, fake_ovh, sqlite_url
):
    withhold, stored = CRASH_POINTS[crash_point]
    doomed = bot_processes("doomed")
    fake_slack.withhold_if = withhold

    SlackSender(doomed.url).command("+34600000001 Audit me once")
    wait_for(f"Slack to store the {crash_point}", lambda: stored(fake_slack))
    doomed.kill()
    fake_slack.release_withheld()

    engine = sa.create_engine(sqlite_url)
    status, audit_status, audit_ts = _row(engine)
    assert (status, audit_status, audit_ts) == ("sent", "pending", None)
    with engine.begin() as conn:  # time passes: the dead process's lease runs out
        conn.execute(sa.text("UPDATE sms_sends SET lease_until = NULL"))

    heir = bot_processes("heir")  # recovery runs at start-up
    wait_for("the heir to record the audit", lambda: _audit_status(engine) == "thread")

    [parent] = _parents(fake_slack)
    [reply] = _audit_replies(fake_slack, parent["ts"])
    assert _row(engine).audit_ts == parent["ts"]
    assert "<@UALICE> sent an SMS to +34 600 00 00 01" in blocks_text(parent)
    assert "*Accepted (1):* +34 600 00 00 01" in blocks_text(reply)
    assert parent["metadata"]["event_type"] == "smsbot_send"
    assert reply["metadata"]["event_type"] == "smsbot_send_reply"
    assert len(fake_ovh.jobs) == 1
    assert "already in Slack" in heir.log()
    engine.dispose()


def test_a_kill_while_recovery_posts_a_late_parent_leaves_one_parent(
    bot_processes, fake_slack, fake_ovh, sqlite_url
):
    doomed = bot_processes("doomed", SMS_RECOVERY_INTERVAL_SECONDS="1")
    engine = sa.create_engine(sqlite_url)
    fake_slack.set_down(True)  # the live send cannot post its audit: recovery will
    SlackSender(doomed.url).command("+34600000001 Audit me later, once")
    wait_for("the live send to give its audit to recovery", lambda: _audit_status(engine) == "failed")

    fake_slack.withhold_if = _is_parent
    fake_slack.set_down(False)
    wait_for("recovery's parent to be stored", lambda: len(_parents(fake_slack)) == 1)
    doomed.kill()
    fake_slack.release_withheld()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sms_sends SET lease_until = NULL"))

    bot_processes("heir")
    wait_for("the heir to record the audit", lambda: _audit_status(engine) == "thread")

    [parent] = _parents(fake_slack)
    [reply] = _audit_replies(fake_slack, parent["ts"])
    assert _row(engine).audit_ts == parent["ts"]
    assert "*Accepted (1):* +34 600 00 00 01" in blocks_text(reply)
    assert len(fake_ovh.jobs) == 1
    engine.dispose()


def _first_only(match: Callable[[str, dict], bool]) -> Callable[[str, dict], bool]:
    seen: list[bool] = []

    def first(method: str, params: dict) -> bool:
        if not match(method, params) or seen:
            return False
        seen.append(True)
        return True

    return first


@pytest.mark.parametrize("lost", [_is_parent, _is_reply], ids=["parent", "reply"])
def test_a_post_whose_answer_is_lost_is_looked_for_not_retried_blindly(
    bot, slack, fake_slack, fake_ovh, lost
):
    fake_slack.lose_answer_if = _first_only(lost)

    slack.command("+34600000001 Lost on the way back")

    [record] = settled_records(bot)
    assert record.audit_status is AuditStatus.THREAD
    [parent] = _parents(fake_slack)
    [reply] = _audit_replies(fake_slack, parent["ts"])
    assert record.audit_ts == parent["ts"]
    assert "*Accepted (1):* +34 600 00 00 01" in blocks_text(reply)


def test_a_5xx_on_the_parent_is_looked_into_then_posted_once(bot, slack, fake_slack, fake_ovh):
    fake_slack.lose_answer_if = None
    fake_slack.fail_next("chat.postMessage", status=500, error="internal_error")  # refused: not there

    slack.command("+34600000001 Refused once")

    [record] = settled_records(bot)
    assert record.audit_status is AuditStatus.THREAD
    [parent] = _parents(fake_slack)
    assert len(_audit_replies(fake_slack, parent["ts"])) == 1
    # Posted again with its metadata, by which a later lookup finds it (and does not post a third copy).
    assert parent["metadata"]["event_payload"] == {"send_id": record.id, "request_key": record.request_key}


def test_without_the_history_scopes_a_late_audit_is_still_posted_and_the_risk_logged(
    bot, slack, fake_slack, fake_ovh, caplog
):
    fake_slack.set_down(True)
    slack.command("+34600000001 During an outage")
    [record] = settled_records(bot)
    fake_slack.set_down(False)
    fake_slack.scopes = [s for s in fake_slack.scopes if not s.endswith(":history")]

    assert bot.recover().reported == [record.id]

    [parent] = _parents(fake_slack)
    assert len(_audit_replies(fake_slack, parent["ts"])) == 1
    assert "cannot read COPS to look for its audit (missing_scope)" in caplog.text
    assert bot.ledger.get(record.id).audit_status is AuditStatus.THREAD


def test_a_lost_answer_for_the_second_part_of_a_long_reply_posts_each_part_once(bot, fake_slack, fake_ovh):
    # Slack's 5,000 characters of command text hold some 380 numbers; a longer send (here one recovery
    # sends again, 2,400 receivers) has a reply over 40,000 characters.
    fake_ovh.credits_left = 10_000
    record = orphan(bot, receivers=tuple(f"+346000{n:05d}" for n in range(1, 2401)))
    fake_slack.lose_answer_if = _first_only(
        lambda method, params: _is_reply(method, params) and params["metadata"]["event_payload"]["part"] == 2
    )

    assert bot.recover().sent_again == [record.id]

    assert bot.ledger.get(record.id).audit_status is AuditStatus.THREAD
    [parent] = _parents(fake_slack)
    replies = _audit_replies(fake_slack, parent["ts"])
    parts = [reply["metadata"]["event_payload"]["part"] for reply in replies]
    assert len(parts) >= 2
    assert parts == list(range(1, replies[0]["metadata"]["event_payload"]["parts"] + 1))
