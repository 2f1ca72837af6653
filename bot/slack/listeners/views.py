"""Submissions of the `/sms` compose modal: inline errors, or a send reported in the original channel."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from bot.domain.errors import InputField, InvalidInput, LedgerUnavailable, NotAllowed
from bot.domain.receivers import parse_receivers
from bot.domain.sms_text import check_message
from bot.sending.service import SendRequest
from bot.services import Services
from bot.slack.blocks import COMPOSE_CALLBACK_ID, modal_values
from bot.slack.listeners.requester import send_in_background

OUT_OF_DATE = "This form is out of date. Close it and type `/sms` again."


def register(app: App, services: Services) -> None:
    """Bind the compose modal's submission."""

    def handle_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else None
        view_id = view.get("id")
        metadata = _metadata(view.get("private_metadata"))
        if not (
            isinstance(user_id, str)
            and user_id
            and isinstance(view_id, str)
            and view_id
            and metadata is not None
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
            receivers = parse_receivers(
                values.get(InputField.RECEIVERS, ""), services.settings.sms_default_region
            )
        except InvalidInput as error:
            errors[error.field] = error.user_message
        message = values.get(InputField.MESSAGE, "")
        try:
            check_message(message, stop_clause=services.sending.stop_clause)
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
                services.sending.validate(request)
            except InvalidInput as error:
                errors[error.field] = error.user_message
            except (NotAllowed, LedgerUnavailable) as refusal:
                errors[InputField.RECEIVERS] = refusal.user_message
        if errors:
            ack(response_action="errors", errors={str(k): v for k, v in errors.items()})
            return
        ack()
        send_in_background(services, request, response_url)

    app.view(COMPOSE_CALLBACK_ID)(handle_submission)


def _metadata(raw: Any) -> dict[str, Any] | None:
    """The context the form carries from the command; None if it is not what the bot wrote."""
    try:
        metadata = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return None
    return metadata if isinstance(metadata, dict) else None
