"""Listener handlers are plain functions: called directly with what Bolt would pass, and their narrow deps."""

from __future__ import annotations

from typing import Any

from bot.domain.recipients import Recipients
from bot.slack.listeners.commands import CommandDeps, handle_sms
from bot.slack.listeners.views import OUT_OF_DATE, ViewDeps, handle_submission


class RecordingAck:
    """What Bolt's ``ack`` receives."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


# The paths below answer in the ack alone: they must not touch the send path, so none is given.
NO_SENDS: Any = None
NO_PEOPLE = Recipients(people=None, contacts=None, default_region=None)


def test_help_is_answered_in_the_ack_with_the_region_and_the_sender():
    deps = CommandDeps(
        sends=NO_SENDS,
        subcommands=NO_SENDS,
        reports=NO_SENDS,
        default_region="ES",
        sender_id="ACME",
        recipients=NO_PEOPLE,
    )
    ack = RecordingAck()

    handle_sms(ack, {"user_id": "UALICE", "trigger_id": "t1", "text": "help"}, client=NO_SENDS, deps=deps)

    [answer] = ack.calls
    assert answer["text"] == "How to use /sms"
    assert "`ACME`" in str(answer["blocks"])


def test_a_command_without_its_trigger_id_is_refused_in_the_ack():
    deps = CommandDeps(
        sends=NO_SENDS,
        subcommands=NO_SENDS,
        reports=NO_SENDS,
        default_region=None,
        sender_id=None,
        recipients=NO_PEOPLE,
    )
    ack = RecordingAck()

    handle_sms(ack, {"user_id": "UALICE", "text": "+34600000001 hi"}, client=NO_SENDS, deps=deps)

    [answer] = ack.calls
    assert "trigger id" in answer["text"]


def test_a_form_without_its_view_id_is_out_of_date():
    ack = RecordingAck()

    handle_submission(
        ack, {"user": {"id": "UALICE"}}, {"private_metadata": "{}"}, deps=ViewDeps(NO_SENDS, None, NO_PEOPLE)
    )

    assert ack.calls == [{"response_action": "errors", "errors": {"receivers": OUT_OF_DATE}}]
