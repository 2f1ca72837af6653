"""The shapes of Slack ids, checked wherever people type them (settings, `smsbot send --user/--channel`) and
wherever a request brings them (:mod:`bot.slack.request_ids`)."""

from __future__ import annotations

import re

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,}$")  # E: an Enterprise Grid organisation
_LONGEST = 40  # Slack's ids are 9 to 12 characters; anything far longer is not one


def is_id(pattern: re.Pattern[str], value: object) -> bool:
    """Whether ``value`` is a text shaped as ``pattern`` says, whole (a trailing new line is not allowed)."""
    return isinstance(value, str) and len(value) <= _LONGEST and pattern.fullmatch(value) is not None
