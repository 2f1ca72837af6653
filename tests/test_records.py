"""The ledger's plain values: the tag OVH finds a send by, what counts as a trace, a redelivery's message."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.records import AuditStatus, DuplicateRequest, OvhTrace, SendRecord, SendStatus

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def record(id: int, status: SendStatus = SendStatus.SENT) -> SendRecord:
    return SendRecord(
        id=id, request_key="T1", source="command", created_at=NOW, updated_at=NOW, team_id="T0",
        user_id="UALICE", channel_id="COPS", receivers=["+34600000001"], message="hi", sender=None,
        status=status, ovh_service="sms-1", ovh_job_ids=[1], credits_used=1.0, credits_left=99.0,
        accepted_receivers=["+34600000001"], rejected_receivers=[], error_code=None, error_message=None,
        audit_channel_id=None, audit_ts=None, audit_status=AuditStatus.PENDING, attempts=1,
        last_attempt_at=NOW, lease_until=None, lease_owner=None, receiver_count=1, estimated_credits=1.0,
    )  # fmt: skip


def test_the_tag_names_the_send_and_fits_the_old_20_character_cap() -> None:
    assert record(42).tag == "smsbot-42"
    assert len(record(10**12).tag) <= 20


def test_a_trace_is_found_when_ovh_sent_or_still_holds_something() -> None:
    assert not OvhTrace(service="sms-1", sms_ids=[], receivers=[], credits=0.0).found
    assert OvhTrace(service="sms-1", sms_ids=[7], receivers=["+34600000001"], credits=1.0).found
    assert OvhTrace(service="sms-1", sms_ids=[], receivers=[], credits=0.0, pending_job_ids=[9]).found
    assert OvhTrace(service="sms-1", sms_ids=[], receivers=[], credits=0.0).incomplete is False


def test_a_redelivery_says_which_send_it_repeats_and_that_nothing_went_again() -> None:
    duplicate = DuplicateRequest(record(42, SendStatus.UNKNOWN))

    assert duplicate.existing.id == 42
    assert (
        duplicate.user_message
        == str(duplicate)
        == ("This request was already received (send #42, unknown); it was not sent again.")
    )
