"""Submissions of the `/sms` compose modal: inline errors, or a send reported in the original channel."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.domain.errors import InputField, InvalidInput, LedgerUnavailable, NotAllowed
from bot.domain.recipients import DirectoryUnavailable, Recipients, Resolved
from bot.domain.records import SendRecord
from bot.domain.schedule import check_send_at, from_timestamp
from bot.domain.sms_text import check_message
from bot.i18n import N_, Translator
from bot.sending.service import SendRequest
from bot.slack.compose import COMPOSE_CALLBACK_ID, ComposeValues, compose_values
from bot.slack.form_extras import CHANNEL_BLOCK, has_channel_picker, picked_channel, picked_people
from bot.slack.listeners.actions import follow_up_of
from bot.slack.listeners.confirm import ConfirmDeps
from bot.slack.listeners.requester import SendDeps, send_in_background
from bot.slack.locales import lazy_translator
from bot.storage.ledger import Ledger

OUT_OF_DATE = N_("This form is out of date. Close it and type `/sms` again.")


def _any_sender(_sender: str) -> bool | None:
    return None


@dataclass(frozen=True)
class ViewDeps:
    """What a form's submission needs."""

    sends: SendDeps
    default_region: str | None
    recipients: Recipients  # contacts by name in the receivers field, and the people picked
    ledger: Ledger | None = None  # the send a follow-up form follows
    # Whether OVH lists a sender as enabled now (None: it did not say in time).
    sender_enabled: Callable[[str], bool | None] = _any_sender
    confirm: ConfirmDeps | None = None  # None: every send goes at once


def register(app: App, deps: ViewDeps) -> None:
    """Bind the compose modal's submission."""
    app.view(COMPOSE_CALLBACK_ID)(partial(handle_submission, deps=deps))


def handle_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any], *, deps: ViewDeps) -> None:
    """A submitted form: errors shown inline before the ack, or the send queued after it."""
    user_id = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else None
    view_id = view.get("id")
    metadata = _metadata(view.get("private_metadata"))
    if not (
        isinstance(user_id, str) and user_id and isinstance(view_id, str) and view_id and metadata is not None
    ):
        # Slack always sends these; without the view id there is no key to stop a double send.
        ack(response_action="errors", errors={InputField.RECEIVERS.value: OUT_OF_DATE})
        return
    t = lazy_translator(deps.sends.translator, user_id)  # Slack is asked only if something is told
    channel_id = metadata.get("channel_id") if isinstance(metadata.get("channel_id"), str) else None
    channel_id = picked_channel(view) or channel_id  # a form opened from a global shortcut
    response_url = metadata.get("response_url") if isinstance(metadata.get("response_url"), str) else None
    values = compose_values(view)
    errors: dict[str, str] = {}
    resolved = form_receivers(view, values.receivers, user_id, channel_id, deps, errors, t)
    receivers = resolved.receivers
    follows = _follows(deps, metadata, channel_id, errors, t)
    message = values.message
    try:
        check_message(message, stop_clause=deps.sends.sending.stop_clause)
    except InvalidInput as error:
        errors[error.field] = error.user_message_in(t)
    sender, send_at = _sender_and_time(values, deps, errors, t)
    team = body.get("team")
    request = SendRequest(
        request_key=f"view:{view_id}",
        source="modal",
        user_id=user_id,
        channel_id=channel_id or None,
        team_id=team.get("id") if isinstance(team, dict) else None,
        receivers=receivers,
        message=message,
        skipped=resolved.skipped,
        follows=follows,
        sender=sender,
        send_at=send_at,
        allow_replies=values.allow_replies,
    )
    confirmation = None
    if not errors:
        try:
            _access, segmentation = deps.sends.sending.validate(request)
            cost = deps.sends.sending.estimate(segmentation, request.receivers)
            if deps.confirm is not None and deps.confirm.needed(cost):
                confirmation = deps.confirm.draft(request, segmentation, cost, response_url, t)
        except InvalidInput as error:
            errors[error.field] = error.user_message_in(t)
        except (NotAllowed, LedgerUnavailable) as refusal:
            errors[InputField.RECEIVERS] = refusal.user_message_in(t)
    if errors:
        ack(response_action="errors", errors={str(k): v for k, v in errors.items()})
        return
    if confirmation is not None:  # costly: nothing is sent until its author confirms it
        ack(response_action="push", view=confirmation)
        return
    ack()
    send_in_background(deps.sends, request, response_url)


def form_receivers(
    view: dict[str, Any],
    text: str,
    user_id: str,
    channel_id: str | None,
    deps: ViewDeps,
    errors: dict[str, str],
    t: Translator,
) -> Resolved:
    """The form's receivers (numbers, contacts by name, people picked) as numbers; what is wrong goes into
    ``errors``, in ``t``'s language. Nobody's profile is read for someone who may not send from that
    channel."""
    if has_channel_picker(view) and not channel_id:
        errors[CHANNEL_BLOCK] = t._("Pick the channel where the send's audit thread goes.")
        return Resolved(())
    people = picked_people(view)
    try:
        if people:
            deps.sends.sending.authorize(user_id, channel_id)
        return deps.recipients.resolve_field(text, people)
    except InvalidInput as error:
        errors[error.field] = error.user_message_in(t)
    except (NotAllowed, LedgerUnavailable, DirectoryUnavailable) as refusal:
        errors[InputField.RECEIVERS] = refusal.user_message_in(t)
    return Resolved(())


def _follows(
    deps: ViewDeps, metadata: dict[str, Any], channel_id: str | None, errors: dict[str, str], t: Translator
) -> SendRecord | None:
    try:
        follows = follow_up_of(deps.ledger, metadata, channel_id)
    except LedgerUnavailable as error:
        errors[InputField.RECEIVERS] = error.user_message_in(t)
        return None
    if isinstance(follows, str):
        errors[InputField.RECEIVERS] = t._(follows)
        return None
    return follows


def _metadata(raw: Any) -> dict[str, Any] | None:
    """The context the form carries from the command; None if it is not what the bot wrote."""
    try:
        metadata = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return None
    return metadata if isinstance(metadata, dict) else None


def _sender_and_time(
    values: ComposeValues, deps: ViewDeps, errors: dict[str, str], t: Translator
) -> tuple[str | None, datetime | None]:
    """The sender picked (if OVH still has it enabled) and the time to send at (if it can be scheduled);
    what is wrong goes into ``errors``, by field."""
    sender = None if values.allow_replies else values.sender
    if sender is not None and deps.sender_enabled(sender) is False:
        errors[InputField.SENDER] = t._(
            "OVH no longer lists {sender} as an enabled sender of this account. Pick another sender."
        ).format(sender=sender)
    send_at = None
    if values.send_at is not None:
        try:
            send_at = check_send_at(from_timestamp(values.send_at), datetime.now(UTC))
        except InvalidInput as error:
            errors[error.field] = error.user_message_in(t)
    return sender, send_at
