"""Before posting an audit late, the bot looks for what an earlier attempt may have left in Slack.

A process that died after Slack took its parent message (or whose answer was lost) leaves a send whose
ledger row names no thread. Recovery reads the channel's history since the send, page after page (200
messages a page, at most 4,000 messages), and reuses the parent it finds by its metadata: the send's id and
request key. A message of another send, of another deployment (same id, another key) or of another kind is
not taken for it.
"""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient

from bot.domain.records import AuditStatus, SendResult
from bot.slack.audit import PARENT_EVENT, REPLY_EVENT
from bot.slack.blocks import audit_parent
from tests.harness import blocks_text, orphan


def _settled_orphan(bot) -> Any:
    """A send whose process died after OVH's answer was recorded, before its audit was (lease run out)."""
    record = orphan(bot, message="Hola desde el pasado")
    return bot.ledger.record_result(
        record.id, SendResult("sms-tt12345-1", [77], ["+34600000001"], [], 1.0, 9.0)
    )


def _post(fake_slack, record, *, metadata: dict[str, Any] | None, thread_ts: str | None = None) -> str:
    """Post as the dead process (or someone else) did, through Slack's API."""
    client = WebClient(base_url=fake_slack.api_url, token=fake_slack.bot_token)
    parent = audit_parent(record)
    answer = client.chat_postMessage(
        channel="COPS", text=parent.text, blocks=parent.blocks, metadata=metadata, thread_ts=thread_ts
    )
    return str(answer["ts"])


def _chatter(fake_slack, count: int) -> None:
    """``count`` messages of people in the channel after the parent, as Slack keeps them."""
    kept = fake_slack.messages["COPS"]
    micros = int(kept[-1]["ts"].replace(".", ""))
    for n in range(1, count + 1):
        ts = f"{(micros + n) // 1_000_000}.{(micros + n) % 1_000_000:06d}"
        kept.append({"type": "message", "user": "UBOB", "text": f"chatter {n}", "ts": ts})


def _parent_metadata(send_id: int, request_key: str, event_type: str = PARENT_EVENT) -> dict[str, Any]:
    return {"event_type": event_type, "event_payload": {"send_id": send_id, "request_key": request_key}}


def test_a_parent_behind_a_page_of_chatter_is_found_and_completed(bot, fake_slack, fake_ovh):
    fake_slack.joined.add("COPS")  # a member already: every read is a page
    record = _settled_orphan(bot)
    parent_ts = _post(fake_slack, record, metadata=_parent_metadata(record.id, record.request_key))
    _chatter(fake_slack, 400)

    assert bot.recover().reported == [record.id]

    reads = fake_slack.calls_to("conversations.history")
    assert len(reads) == 3  # 401 messages, newest first, 200 at a time
    assert {read["limit"] for read in reads} == {"200"}
    assert [read.get("cursor") for read in reads] == [None, "200", "400"]
    assert len([m for m in fake_slack.posted("COPS") if m.get("user") != "UBOB"]) == 1
    [reply] = fake_slack.posted("COPS", parent_ts)
    assert "*OVH job id:* 77" in blocks_text(reply)
    assert reply["metadata"]["event_type"] == REPLY_EVENT
    settled = bot.ledger.get(record.id)
    assert (settled.audit_status, settled.audit_channel_id, settled.audit_ts) == (
        AuditStatus.THREAD,
        "COPS",
        parent_ts,
    )
    assert fake_ovh.jobs == []


def test_a_parent_beyond_the_last_4000_messages_is_not_looked_for_further(bot, fake_slack, caplog):
    fake_slack.joined.add("COPS")
    record = _settled_orphan(bot)
    _post(fake_slack, record, metadata=_parent_metadata(record.id, record.request_key))
    _chatter(fake_slack, 4000)

    assert bot.recover().reported == [record.id]

    assert len(fake_slack.calls_to("conversations.history")) == 20
    assert len([m for m in fake_slack.posted("COPS") if m.get("user") != "UBOB"]) == 2  # a second parent
    assert f"send #{record.id}: its audit was not found in the last 4000 messages of COPS" in caplog.text


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        {"event_type": "another_app_event", "event_payload": {"send_id": 1, "request_key": "command:orphan"}},
        {"event_type": PARENT_EVENT, "event_payload": "1"},
        {"event_type": PARENT_EVENT, "event_payload": {"send_id": 2, "request_key": "command:orphan"}},
        {"event_type": PARENT_EVENT, "event_payload": {"send_id": 1, "request_key": "command:elsewhere"}},
        {"event_type": REPLY_EVENT, "event_payload": {"send_id": 1, "request_key": "command:orphan"}},
    ],
    ids=["no metadata", "another event", "no payload", "another send", "another deployment", "a reply"],
)
def test_a_message_that_is_not_this_sends_parent_is_not_taken_for_it(bot, fake_slack, metadata):
    record = _settled_orphan(bot)
    assert (record.id, record.request_key) == (1, "command:orphan")
    other_ts = _post(fake_slack, record, metadata=metadata)

    assert bot.recover().reported == [record.id]

    settled = bot.ledger.get(record.id)
    assert settled.audit_status is AuditStatus.THREAD and settled.audit_ts != other_ts
    assert fake_slack.posted("COPS", other_ts) == []
    [reply] = fake_slack.posted("COPS", settled.audit_ts)
    assert reply["metadata"]["event_payload"] == {
        "send_id": 1,
        "request_key": "command:orphan",
        "state": "sent:1",
        "part": 1,
        "parts": 1,
    }


@pytest.mark.parametrize(
    ("part", "chatter"),
    [({"part": 1, "parts": 1}, 0), ({}, 0), ({"part": 1, "parts": 1}, 250)],
    ids=["its reply", "a reply that names no part (part 1)", "its reply after 250 others in the thread"],
)
def test_a_thread_that_holds_the_reply_already_gets_no_second_copy(bot, fake_slack, part, chatter):
    fake_slack.joined.add("COPS")
    record = _settled_orphan(bot)
    parent_ts = _post(fake_slack, record, metadata=_parent_metadata(record.id, record.request_key))
    for _ in range(chatter):  # people talking in the thread before the reply was posted
        _post(fake_slack, record, thread_ts=parent_ts, metadata=None)
    reply = {"send_id": record.id, "request_key": record.request_key, "state": "sent:1"} | part
    _post(
        fake_slack, record, thread_ts=parent_ts, metadata={"event_type": REPLY_EVENT, "event_payload": reply}
    )

    assert bot.recover().reported == [record.id]

    assert len(fake_slack.posted("COPS", parent_ts)) == chatter + 1
    assert bot.ledger.get(record.id).audit_ts == parent_ts
    assert len(fake_slack.calls_to("conversations.replies")) == 1 + chatter // 200


@pytest.mark.parametrize(
    "payload",
    [
        {"state": "unknown:1", "part": 1},  # the reply of an earlier state: this one is still to post
        {"state": "sent:1", "part": 2},  # another part of the same reply
    ],
    ids=["earlier state", "another part"],
)
def test_a_reply_of_another_state_or_part_does_not_stand_for_this_one(bot, fake_slack, payload):
    record = _settled_orphan(bot)
    parent_ts = _post(fake_slack, record, metadata=_parent_metadata(record.id, record.request_key))
    reply = {"send_id": record.id, "request_key": record.request_key, "parts": 2} | payload
    _post(
        fake_slack, record, thread_ts=parent_ts, metadata={"event_type": REPLY_EVENT, "event_payload": reply}
    )

    assert bot.recover().reported == [record.id]

    replies = fake_slack.posted("COPS", parent_ts)
    assert len(replies) == 2
    assert replies[1]["metadata"]["event_payload"]["state"] == "sent:1"
    assert "*OVH job id:* 77" in blocks_text(replies[1])


@pytest.fixture
def no_retry_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """No random jitter in the SDK's retries: a retry comes after its backoff alone."""
    monkeypatch.setattr("slack_sdk.http_retry.jitter.random.random", lambda: 0.0)
    monkeypatch.setattr("slack_sdk.http_retry.builtin_handlers.random.random", lambda: 0.0)


@pytest.mark.usefixtures("no_retry_jitter")
@pytest.mark.parametrize(
    ("status", "error"),
    [(200, "fatal_error"), (200, "ratelimited"), (429, "too_many"), (500, "server_error")],
)
def test_a_lookup_slack_fails_leaves_the_audit_for_later_not_posted_blindly(bot, fake_slack, status, error):
    fake_slack.joined.add("COPS")
    record = _settled_orphan(bot)
    fake_slack.fail_next("conversations.history", status=status, error=error, retry_after=0, times=10)

    assert bot.recover().reported == [record.id]

    assert fake_slack.posted("COPS") == []
    assert bot.ledger.get(record.id).audit_status is AuditStatus.FAILED


def test_a_lookup_slack_refuses_for_good_is_skipped_and_the_audit_posted(bot, fake_slack, caplog):
    fake_slack.joined.add("COPS")
    record = _settled_orphan(bot)
    fake_slack.fail_next("conversations.history", error="access_denied")

    assert bot.recover().reported == [record.id]

    [parent] = fake_slack.posted("COPS")
    assert bot.ledger.get(record.id).audit_ts == parent["ts"]
    assert "cannot read COPS to look for its audit (access_denied)" in caplog.text


@pytest.mark.usefixtures("no_retry_jitter")
def test_a_found_parent_is_remembered_even_when_its_thread_cannot_be_read_yet(bot, fake_slack):
    fake_slack.joined.add("COPS")
    record = _settled_orphan(bot)
    parent_ts = _post(fake_slack, record, metadata=_parent_metadata(record.id, record.request_key))
    fake_slack.fail_next("conversations.replies", status=503, times=10)

    assert bot.recover().reported == [record.id]

    waiting = bot.ledger.get(record.id)
    assert (waiting.audit_status, waiting.audit_channel_id, waiting.audit_ts) == (
        AuditStatus.FAILED,
        "COPS",
        parent_ts,
    )
    assert fake_slack.posted("COPS", parent_ts) == []


def test_a_follow_ups_parent_is_looked_for_in_its_thread_200_replies_at_a_time(bot, fake_slack):
    fake_slack.joined.add("COPS")
    first = _settled_orphan(bot)
    first_ts = _post(fake_slack, first, metadata=_parent_metadata(first.id, first.request_key))
    first = bot.ledger.record_audit(first.id, AuditStatus.THREAD, "COPS", first_ts, owner=None)
    for _ in range(250):  # people talking in the first send's thread
        _post(fake_slack, first, thread_ts=first_ts, metadata=None)
    follow = orphan(bot, key="command:follow", message="Segunda", follows=first)
    follow = bot.ledger.record_result(
        follow.id, SendResult("sms-tt12345-1", [78], ["+34600000001"], [], 1.0, 8.0)
    )
    follow_ts = _post(
        fake_slack, follow, thread_ts=first_ts, metadata=_parent_metadata(follow.id, follow.request_key)
    )

    assert bot.recover().reported == [follow.id]

    reads = fake_slack.calls_to("conversations.replies")
    assert reads and {(read["ts"], read.get("limit")) for read in reads} == {(first_ts, "200")}
    parents = [m for m in fake_slack.posted("COPS", first_ts) if "> Segunda" in blocks_text(m)]
    assert [m["ts"] for m in parents] == [follow_ts]
    assert bot.ledger.get(follow.id).audit_status is AuditStatus.THREAD


@pytest.mark.usefixtures("no_retry_jitter")
def test_a_parent_posted_again_after_slack_failed_keeps_the_metadata_it_is_found_by(bot, fake_slack):
    # A 5xx may mean Slack took the post: the history is read (nothing there), then it is posted again, and
    # that copy must still carry what a later lookup finds it by, or a crash now would post a second parent.
    fake_slack.joined.add("COPS")
    record = _settled_orphan(bot)
    fake_slack.fail_next("chat.postMessage", status=500)

    assert bot.recover().reported == [record.id]

    [parent] = fake_slack.posted("COPS")
    assert parent["metadata"] == _parent_metadata(record.id, record.request_key)
    assert [call.method for call in fake_slack.calls].count("conversations.history") >= 1
    assert bot.ledger.get(record.id).audit_ts == parent["ts"]
