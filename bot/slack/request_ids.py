"""Refuse requests whose Slack ids are not shaped as Slack's ids, before any listener reads them.

Ids from a request end up in messages (``<@U…>`` in mrkdwn): a forged user id such as
``UX> <!channel> <https://evil.example|click`` would post a channel ping and a link. Slack never sends
such ids, so a request carrying one is malformed: it gets 400 and nothing is done. A missing id is left to
the listeners, which say what is missing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt.response import BoltResponse

from bot.slack.ids import CHANNEL_ID, TEAM_ID, USER_ID, is_id

log = logging.getLogger(__name__)


def refuse_malformed_ids(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
    """Bolt global middleware: 400 for a request with an id of the wrong shape, else on to the listeners.

    Bolt passes its arguments by name: ``next`` must be called so.
    """
    wrong = _wrong_ids(body)
    if wrong:
        log.warning("refused a request whose %s is not a Slack id", " and ".join(wrong))
        return BoltResponse(
            status=400,
            body=json.dumps({"error": f"malformed request: {', '.join(wrong)} is not a Slack id"}),
            headers={"content-type": "application/json"},
        )
    next()
    return None


def _wrong_ids(body: dict[str, Any]) -> list[str]:
    """The names of the ids in ``body`` that are present but not shaped as Slack's."""
    checks: list[tuple[str, Any, re.Pattern[str]]] = [
        ("user_id", body.get("user_id"), USER_ID),  # a slash command
        ("channel_id", body.get("channel_id"), CHANNEL_ID),
        ("team_id", body.get("team_id"), TEAM_ID),
    ]
    for field, pattern in (("user", USER_ID), ("team", TEAM_ID), ("channel", CHANNEL_ID)):
        value = body.get(field)  # an interaction: {"user": {"id": …}, …}
        checks.append((f"{field}.id", value.get("id") if isinstance(value, dict) else value, pattern))
    view = body.get("view")
    if isinstance(view, dict):
        checks.append(("the form's channel", _metadata_channel(view.get("private_metadata")), CHANNEL_ID))
    return [name for name, value, pattern in checks if value not in (None, "") and not is_id(pattern, value)]


def _metadata_channel(raw: Any) -> Any:
    """The channel the compose form was opened from, as the bot wrote it in the view's private metadata."""
    try:
        metadata = json.loads(raw) if isinstance(raw, str) and raw else None
    except ValueError:
        return None
    return metadata.get("channel_id") if isinstance(metadata, dict) else None
