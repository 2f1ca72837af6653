"""The compose form's live summary: each keystroke Slack reports (``block_actions`` from an input with
``dispatch_action``: the numbers, the message, the people picked) refreshes the summary under the message
with ``views.update``.

Each update carries the hash of the view the keystroke was typed in, so Slack refuses it
(``hash_conflict``) if the view changed since: an older keystroke's summary never overwrites a newer one.
When a newer keystroke loses that race to an older one, it tries once more with the hash the older one
left, as it knows its summary is the newer.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.cost import unicode_culprit
from bot.domain.errors import InvalidInput
from bot.domain.receivers import Receiver, parse_receivers
from bot.domain.sms_text import check_message
from bot.i18n import ENGLISH, Translator
from bot.sending.service import SendService
from bot.slack.blocks import escape
from bot.slack.client import SLACK_FAILURES
from bot.slack.compose import (
    COMPOSE_CALLBACK_ID,
    EMPTY_SUMMARY,
    INPUT_ACTION_ID,
    MESSAGE_BLOCK,
    RECEIVERS_BLOCK,
    ComposeValues,
    compose_values,
    summary_text,
    with_summary,
)
from bot.slack.form_extras import PEOPLE_BLOCK, picked_people

log = logging.getLogger(__name__)
_REMEMBERED_VIEWS = 1000
# After a hash_conflict, how long a keystroke waits for the answer to the older update that won the race.
CONFLICT_WAIT = 0.5
_SEPARATORS = re.compile(r"[,;\n]+")


class LatestSummaries:
    """Per view, the newest keystroke whose summary Slack took, and the hash it gave the view. Thread-safe;
    it remembers the last _REMEMBERED_VIEWS views."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._views: OrderedDict[str, tuple[float, str]] = OrderedDict()

    def newer_shown(self, view_id: str, typed_at: float) -> bool:
        """Whether a keystroke newer than ``typed_at`` already has its summary shown."""
        with self._changed:
            shown = self._views.get(view_id)
            return shown is not None and shown[0] > typed_at

    def hash_before(self, view_id: str, typed_at: float, stale: str, wait: float = 0.0) -> str | None:
        """The view's hash after an older keystroke's update (not ``stale``, the hash Slack refused), if the
        last summary shown is older than ``typed_at``; waits up to ``wait`` seconds for that update's answer,
        which may still be on its way. None: a newer summary is shown, or none came."""
        deadline = time.monotonic() + wait
        with self._changed:
            while True:
                shown = self._views.get(view_id)
                if shown is not None and shown[0] > typed_at:
                    return None
                if shown is not None and shown[1] != stale:
                    return shown[1]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def shown(self, view_id: str, typed_at: float, view_hash: str) -> None:
        """Slack took the summary of the keystroke typed at ``typed_at``; the view's hash is now ``view_hash``."""
        with self._changed:
            previous = self._views.get(view_id)
            if previous is None or previous[0] <= typed_at:
                self._views[view_id] = (typed_at, view_hash)
                self._views.move_to_end(view_id)
            while len(self._views) > _REMEMBERED_VIEWS:
                self._views.popitem(last=False)
            self._changed.notify_all()


@dataclass(frozen=True)
class SummaryDeps:
    """What the live summary needs: the estimate, how numbers are read, the newest summaries shown, and
    the language of the person typing."""

    sending: SendService
    default_region: str | None
    latest: LatestSummaries = field(default_factory=LatestSummaries)
    translator: Callable[[str], Translator] = lambda _user_id: ENGLISH


def register(app: App, deps: SummaryDeps) -> None:
    """Bind the keystrokes of the form's receivers and message fields."""
    for block_id in (RECEIVERS_BLOCK, MESSAGE_BLOCK, PEOPLE_BLOCK):
        app.block_action({"block_id": block_id, "action_id": INPUT_ACTION_ID})(
            partial(handle_keystroke, deps=deps)
        )


def handle_keystroke(ack: Ack, body: dict[str, Any], client: WebClient, *, deps: SummaryDeps) -> None:
    """Acknowledge at once, then show the summary of what the form now holds."""
    ack()
    view = body.get("view")
    if not isinstance(view, dict) or view.get("callback_id") != COMPOSE_CALLBACK_ID:
        return
    view_id, view_hash = view.get("id"), view.get("hash")
    if not (isinstance(view_id, str) and isinstance(view_hash, str) and isinstance(view.get("blocks"), list)):
        return
    typed_at = _typed_at(body)
    if deps.latest.newer_shown(view_id, typed_at):
        log.debug("a keystroke older than the summary shown in view %s: not shown", view_id)
        return
    values = _with_typed_value(compose_values(view), body)
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else None
    t = deps.translator(user_id) if isinstance(user_id, str) and user_id else ENGLISH
    refresh_summary(client, deps, view, live_summary(values, deps, t), typed_at)


def refresh_summary(
    client: WebClient, deps: SummaryDeps, view: dict[str, Any], text: str, typed_at: float
) -> None:
    """Replace the summary of ``view`` (as Slack sent it) with ``text``; never raises."""
    view_id, view_hash = view["id"], view["hash"]
    update = with_summary(view, text)
    for attempt in (view_hash, None):
        the_hash = attempt or deps.latest.hash_before(view_id, typed_at, view_hash, wait=CONFLICT_WAIT)
        if the_hash is None:
            log.debug("a keystroke older than the summary shown in view %s: refused by Slack", view_id)
            return
        try:
            answer = client.views_update(view_id=view_id, hash=the_hash, view=update)
        except SlackApiError as error:
            if error.response.get("error") != "hash_conflict":
                log.warning("the form's summary was not updated: %s", error.response.get("error"))
                return
            continue  # the view changed since this keystroke: maybe an older one's summary; see above
        except SLACK_FAILURES as error:
            log.warning("the form's summary was not updated: %s", error)
            return
        new_hash = (answer.get("view") or {}).get("hash")
        if isinstance(new_hash, str):
            deps.latest.shown(view_id, typed_at, new_hash)
        return


def live_summary(values: ComposeValues, deps: SummaryDeps, t: Translator = ENGLISH) -> str:
    """The summary of a form's receivers and message, in ``t``'s language: a size and cost estimate, or
    what to fix first."""
    receivers, bad = lenient_receivers(values.receivers, deps.default_region)
    if not values.message.strip():
        return t._(EMPTY_SUMMARY)
    stop_clause = deps.sending.stop_clause
    try:
        segmentation = check_message(values.message, stop_clause=stop_clause)
    except InvalidInput as error:
        return f":warning: {escape(error.user_message_in(t))}"
    # People picked get the SMS on their profile phone, read only when the form is sent: priced meanwhile
    # as numbers of the default country.
    people = len(picked_people({"state": {"values": values.state}}))
    cost = deps.sending.estimate(
        segmentation, receivers, unresolved=people, unresolved_region=deps.default_region
    )
    culprit = unicode_culprit(values.message, segmentation, cost, stop_clause=stop_clause)
    return summary_text(segmentation, cost, culprit, bad_receivers=bad, people=people, t=t)


def lenient_receivers(text: str, default_region: str | None) -> tuple[list[Receiver], int]:
    """The valid numbers of a receivers field still being typed, and how many pieces are not (yet) one."""
    try:
        return list(parse_receivers(text, default_region)), 0
    except InvalidInput:
        pass
    found: list[Receiver] = []
    bad = 0
    for piece in _SEPARATORS.split(text):
        if not piece.strip():
            continue
        try:
            found.extend(parse_receivers(piece, default_region))
        except InvalidInput:
            bad += 1
    return list({receiver.e164: receiver for receiver in found}.values()), bad


def _typed_at(body: dict[str, Any]) -> float:
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    try:
        return float(action.get("action_ts") or 0)
    except (TypeError, ValueError):
        return 0.0


def _with_typed_value(values: ComposeValues, body: dict[str, Any]) -> ComposeValues:
    """The form's values with the field being typed in as the keystroke reported it (its newest value)."""
    actions = body.get("actions")
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    if action.get("block_id") == PEOPLE_BLOCK and isinstance(action.get("selected_users"), list):
        state = {
            **values.state,
            PEOPLE_BLOCK: {INPUT_ACTION_ID: {"selected_users": action["selected_users"]}},
        }
        return replace(values, state=state)
    value = action.get("value")
    if not isinstance(value, str):
        return values
    if action.get("block_id") == RECEIVERS_BLOCK:
        return replace(values, receivers=value)
    if action.get("block_id") == MESSAGE_BLOCK:
        return replace(values, message=value)
    return values
