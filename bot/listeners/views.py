"""Submissions of the `/sms` compose modal: inline errors, or a send reported in the original channel."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from bot.blocks import COMPOSE_CALLBACK_ID, modal_values
from bot.errors import InputField, InvalidInput, LedgerUnavailable, NotAllowed
from bot.listeners.delivery import send_and_report
from bot.receivers import parse_receivers
from bot.sending import SendRequest
from bot.services import Services
from bot.sms_text import check_message


def register(app: App, services: Services) -> None:
    """Bind the compose modal's submission."""

    def handle_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        metadata = json.loads(view.get("private_metadata") or "{}")
        channel_id = metadata.get("channel_id") or None
        user_id = body["user"]["id"]
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
            check_message(message, stop_clause=services.sender.stop_clause)
        except InvalidInput as error:
            errors[error.field] = error.user_message
        request = SendRequest(
            request_key=f"view:{view['id']}",
            source="modal",
            user_id=user_id,
            channel_id=channel_id,
            team_id=(body.get("team") or {}).get("id"),
            receivers=receivers,
            message=message,
        )
        if not errors:
            try:
                services.sender.validate(request)
            except InvalidInput as error:
                errors[error.field] = error.user_message
            except (NotAllowed, LedgerUnavailable) as refusal:
                errors[InputField.RECEIVERS] = refusal.user_message
        if errors:
            ack(response_action="errors", errors={str(k): v for k, v in errors.items()})
            return
        ack()
        send_and_report(services, request, metadata.get("response_url"))

    app.view(COMPOSE_CALLBACK_ID)(handle_submission)
