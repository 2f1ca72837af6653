"""What people-facing entry points add to the compose form: pre-filled fields, a people picker, a channel
picker (for a form opened away from any channel), and reading those back from a submission.

The form itself is built in one place (``compose_modal``); these functions only add to the view it returns,
by block id, so that the form stays one form whichever way it was opened.
"""

from __future__ import annotations

import copy
from typing import Any

from bot.domain.errors import InputField
from bot.i18n import ENGLISH, Translator
from bot.slack.ids import CHANNEL_ID, USER_ID, is_id

PEOPLE_BLOCK = "people"
CHANNEL_BLOCK = "channel"
_ACTION = "value"
MAX_PICKED = 100  # Slack's own cap for a multi_users_select is 100 selected users, too


def with_initial(view: dict[str, Any], *, receivers: str = "", message: str = "") -> dict[str, Any]:
    """``view`` with its receivers and message fields pre-filled (cut to the fields' 3,000 characters)."""
    view = copy.deepcopy(view)
    for block in view.get("blocks", []):
        text = {InputField.RECEIVERS.value: receivers, InputField.MESSAGE.value: message}.get(
            block.get("block_id")
        )
        if text and block.get("type") == "input" and block["element"].get("type") == "plain_text_input":
            block["element"]["initial_value"] = text[: int(block["element"].get("max_length", 3000))]
    return view


def with_people_picker(
    view: dict[str, Any], initial_users: list[str] | None = None, t: Translator = ENGLISH
) -> dict[str, Any]:
    """``view`` with a people picker after its receivers field: people get the SMS on their profile phone
    (its words in ``t``'s language)."""
    element: dict[str, Any] = {
        "type": "multi_users_select",
        "action_id": _ACTION,
        "placeholder": {"type": "plain_text", "text": t._("Pick people")},
        "max_selected_items": MAX_PICKED,
    }
    if initial_users:
        element["initial_users"] = initial_users[:MAX_PICKED]
    block = {
        "type": "input",
        "block_id": PEOPLE_BLOCK,
        "dispatch_action": True,  # a pick refreshes the live summary (bot.slack.listeners.summary)
        "optional": True,
        "label": {"type": "plain_text", "text": t._("Or people")},
        "hint": {"type": "plain_text", "text": t._("Each gets the SMS on the phone in their Slack profile.")},
        "element": element,
    }
    view = _insert_after(view, InputField.RECEIVERS.value, block)
    for existing in view["blocks"]:
        if existing.get("block_id") == InputField.RECEIVERS.value:
            existing["optional"] = True  # numbers or people: the submission checks that there is someone
    return view


def with_channel_picker(view: dict[str, Any], t: Translator = ENGLISH) -> dict[str, Any]:
    """``view`` with a channel picker after its message field, for a form opened away from a channel (a
    global shortcut): the send's audit thread goes there, and that channel's access rules apply."""
    block = {
        "type": "input",
        "block_id": CHANNEL_BLOCK,
        "label": {"type": "plain_text", "text": t._("Audit in")},
        "hint": {
            "type": "plain_text",
            "text": t._("The channel where the send and OVH's answer are posted."),
        },
        "element": {
            "type": "conversations_select",
            "action_id": _ACTION,
            "default_to_current_conversation": True,
            "filter": {"include": ["public", "private"], "exclude_bot_users": True},
            "placeholder": {"type": "plain_text", "text": t._("Pick a channel")},
        },
    }
    return _insert_after(view, InputField.MESSAGE.value, block)


def picked_people(view: dict[str, Any]) -> list[str]:
    """The user ids picked in the people picker (ids not shaped as Slack's are left out)."""
    picked = _action(view, PEOPLE_BLOCK).get("selected_users")
    if not isinstance(picked, list):
        return []
    return [user for user in picked if isinstance(user, str) and is_id(USER_ID, user)][:MAX_PICKED]


def picked_channel(view: dict[str, Any]) -> str | None:
    """The channel picked in the channel picker, if the form has one and a channel was picked."""
    picked = _action(view, CHANNEL_BLOCK).get("selected_conversation")
    return picked if isinstance(picked, str) and is_id(CHANNEL_ID, picked) else None


def has_channel_picker(view: dict[str, Any]) -> bool:
    """Whether the form was opened with a channel picker (then a channel must be picked)."""
    return any(
        block.get("block_id") == CHANNEL_BLOCK for block in view.get("blocks", []) if isinstance(block, dict)
    )


def _action(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    actions = values.get(block_id) if isinstance(values, dict) else None
    action = actions.get(_ACTION) if isinstance(actions, dict) else None
    return action if isinstance(action, dict) else {}


def _insert_after(view: dict[str, Any], block_id: str, block: dict[str, Any]) -> dict[str, Any]:
    view = copy.deepcopy(view)
    blocks = view.setdefault("blocks", [])
    at = next(
        (i + 1 for i, existing in enumerate(blocks) if existing.get("block_id") == block_id), len(blocks)
    )
    blocks.insert(at, block)
    return view
