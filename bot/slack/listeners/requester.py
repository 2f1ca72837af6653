"""What commands and modal submissions share once acknowledged: who asked, telling them, sending."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.domain.errors import InvalidInput, LedgerUnavailable, NotAllowed
from bot.domain.records import DuplicateRequest, SendRecord
from bot.i18n import ENGLISH, N_, Translator
from bot.sending.service import SendRequest, SendService
from bot.slack.audit import AuditReporter, show_privately
from bot.slack.blocks import error_message, info_message
from bot.slack.client import SLACK_FAILURES
from bot.slack.locales import lazy_translator

log = logging.getLogger(__name__)
SOMETHING_WENT_WRONG = N_(
    "Something went wrong in the bot while handling this. If it was a send, check the channel for its audit "
    "thread before sending again, and tell an admin."
)


@dataclass(frozen=True)
class Requester:
    """Who asked, from where, and how to answer them privately."""

    user_id: str
    trigger_id: str | None
    channel_id: str | None
    team_id: str | None
    response_url: str | None

    @classmethod
    def from_command(cls, command: dict[str, Any]) -> Requester | None:
        """Read a slash command payload; None if it lacks what every command from Slack has."""
        user_id, trigger_id = command.get("user_id"), command.get("trigger_id")
        if not (isinstance(user_id, str) and user_id and isinstance(trigger_id, str) and trigger_id):
            return None
        return cls(
            user_id=user_id,
            trigger_id=trigger_id,
            channel_id=_text_or_none(command.get("channel_id")),
            team_id=_text_or_none(command.get("team_id")),
            response_url=_text_or_none(command.get("response_url")),
        )

    def open_view(
        self, client: WebClient, slack: WebClient, view: dict[str, Any], *, failed: str, what: str = "a form"
    ) -> None:
        """Open ``view`` with this request's trigger id, which works once and for 3 seconds only. When Slack
        refuses it or does not answer in time, log it and tell the person ``failed`` (what to do now, in
        their language) through ``slack``."""
        try:
            client.views_open(trigger_id=self.trigger_id, view=view)
        except SLACK_FAILURES as error:
            log.warning("views.open failed for %s: %s", what, error)
            self.tell(slack, failed)

    def tell(self, slack: WebClient, text: str, *, error: bool = True) -> None:
        """Show this person alone a message: through the response URL, else ephemeral, else a DM.

        ``text`` is plain text when ``error`` (it may quote what the person typed), else mrkdwn built by
        the bot. Never raises: this is how failures are told, so a failure here is only logged.
        """
        try:
            message = error_message(text) if error else info_message(text)
            shown = show_privately(
                slack,
                message,
                user_id=self.user_id,
                channel_id=self.channel_id,
                response_url=self.response_url,
            )
        except Exception:  # the last resort of error handling must not fail in turn
            log.exception("could not tell %s", self.user_id)
            return
        if not shown:
            log.warning("could not tell %s: Slack took none of the ways", self.user_id)


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@contextmanager
def after_ack(slack: WebClient, requester: Requester, t: Translator = ENGLISH) -> Iterator[None]:
    """Work done after the ack must not raise into Bolt: log it and tell the person (in ``t``'s language)."""
    try:
        yield
    except Exception:
        log.exception("unexpected error after acknowledging a request from %s", requester.user_id)
        requester.tell(slack, t._(SOMETHING_WENT_WRONG))  # a person's language is English when unknown


@dataclass(frozen=True)
class SendDeps:
    """What an acknowledged send needs: the use case, Slack's audit sink, the send workers, and a client
    to tell the person of a refusal."""

    sending: SendService
    audit: AuditReporter
    workers: Executor
    slack: WebClient
    # Called with the settled record once a send was reported (its author's App Home refreshes); never raises.
    after_send: Callable[[SendRecord], object] = lambda _record: None
    translator: Callable[[str], Translator] = lambda _user_id: ENGLISH  # the language to tell a person in


def send_in_background(deps: SendDeps, request: SendRequest, response_url: str | None) -> None:
    """Hand an acknowledged send to the send workers, so the listener's thread is free for the next ack.

    A send may wait for OVH for up to OVH_READ_TIMEOUT; were it done on the listener's thread, a burst of
    slow sends would leave no thread to acknowledge the next command within Slack's 3 seconds.
    """
    requester = Requester(request.user_id, None, request.channel_id, request.team_id, response_url)

    def work() -> None:
        with after_ack(deps.slack, requester, lazy_translator(deps.translator, request.user_id)):
            send_and_report(deps, request, response_url)

    deps.workers.submit(work)


def send_and_report(deps: SendDeps, request: SendRequest, response_url: str | None) -> None:
    """Run the whole send use case after the request was acknowledged; tell the person of a refusal."""
    requester = Requester(
        request.user_id, request.request_key, request.channel_id, request.team_id, response_url
    )
    if request.language is None:  # what is posted about the send is told in the requester's language
        request = dataclasses.replace(request, language=deps.translator(request.user_id).language)
    try:
        reported = deps.sending.send_and_report(request, deps.audit.answering(response_url))
        deps.after_send(reported.record)
    except DuplicateRequest as duplicate:
        log.info("%s was delivered again; send #%d not repeated", request.request_key, duplicate.existing.id)
    except (NotAllowed, InvalidInput, LedgerUnavailable) as refusal:
        log.info("%s refused for %s: %s", request.request_key, request.user_id, type(refusal).__name__)
        requester.tell(deps.slack, refusal.user_message_in(deps.translator(request.user_id)))
