"""Submissions of the `/sms` compose modal: inline errors, or a send reported in the original channel."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.domain.errors import InputField, InvalidInput, LedgerUnavailable, NotAllowed
from bot.domain.receivers import parse_receivers
from bot.domain.sms_text import check_message
from bot.sending.service import SendRequest
from bot.slack.blocks import COMPOSE_CALLBACK_ID, modal_values
from bot.slack.listeners.requester import SendDeps, send_in_background

OUT_OF_DATE = "This form is out of date. Close it and type `/sms` again."


@dataclass(frozen=True)
class ViewDeps:
    """What a form's submission needs."""

    sends: SendDeps
    default_region: str | None


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
    channel_id = metadata.get("channel_id") if isinstance(metadata.get("channel_id"), str) else None
    response_url = metadata.get("response_url") if isinstance(metadata.get("response_url"), str) else None
    values = modal_values(view)
    errors: dict[str, str] = {}
    receivers = ()
    try:
        receivers = parse_receivers(values.get(InputField.RECEIVERS, ""), deps.default_region)
    except InvalidInput as error:
        errors[error.field] = error.user_message
    message = values.get(InputField.MESSAGE, "")
    try:
        check_message(message, stop_clause=deps.sends.sending.stop_clause)
    except InvalidInput as error:
        errors[error.field] = error.user_message
    team = body.get("team")
    request = SendRequest(
        request_key=f"view:{view_id}",
        source="modal",
        user_id=user_id,
        channel_id=channel_id or None,
        team_id=team.get("id") if isinstance(team, dict) else None,
        receivers=receivers,
        message=message,
    )
    if not errors:
        try:
            deps.sends.sending.validate(request)
        except InvalidInput as error:
            errors[error.field] = error.user_message
        except (NotAllowed, LedgerUnavailable) as refusal:
            errors[InputField.RECEIVERS] = refusal.user_message
    if errors:
        ack(response_action="errors", errors={str(k): v for k, v in errors.items()})
        return
    ack()
    send_in_background(deps.sends, request, response_url)


def _metadata(raw: Any) -> dict[str, Any] | None:
    """The context the form carries from the command; None if it is not what the bot wrote."""
    try:
        metadata = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return None
    return metadata if isinstance(metadata, dict) else None
