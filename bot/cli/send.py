"""`smsbot send`: send an SMS from the terminal through the same path as `/sms`, or dry-run it."""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from collections.abc import Sequence

from bot.app import Core, build_core
from bot.cli.output import Marks, say, settings_or_exit
from bot.domain.cost import CostEstimate, credits_text
from bot.domain.errors import ConfigurationError, DeliveryError, InvalidInput, LedgerUnavailable, NotAllowed
from bot.domain.receivers import Receiver, parse_receivers
from bot.domain.records import AuditStatus, DuplicateRequest, SendRecord, SendStatus
from bot.domain.sms_text import check_message, describe
from bot.logs import configure_logging
from bot.sending.audit import AuditOutcome, AuditSink
from bot.sending.service import SendRequest
from bot.settings import Mode, Settings
from bot.slack.ids import CHANNEL_ID, USER_ID, is_id

log = logging.getLogger("smsbot")


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Declare `smsbot send` and its arguments."""
    parser = commands.add_parser(
        "send",
        help="send an SMS from the terminal, with the same rules and audit trail as /sms",
        description="Send an SMS as a Slack user would with /sms: the access rules apply to --user, and "
        "the send is recorded in the ledger and reported in Slack. Exit status: 0 sent, 1 failed or "
        "outcome unknown, 2 not sent (bad input, not allowed, or settings).",
    )
    parser.add_argument(
        "receivers",
        nargs="+",
        metavar="RECEIVER",
        help="phone number(s): several arguments and/or comma-separated lists",
    )
    parser.add_argument(
        "message", metavar="MESSAGE", help="the text, in quotes; `-` reads it from standard input"
    )
    parser.add_argument(
        "--user",
        required=True,
        help="the Slack user id (U…) sending it: the access rules apply to them and the ledger names them",
    )
    parser.add_argument(
        "--channel",
        help="the channel id (C…) to post the audit thread in (its access rules apply); without it, "
        "the user gets the result as a direct message",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything and estimate the cost; nothing is sent and no send is recorded (the database is "
        "created or its schema brought up to date if needed, as at any start)",
    )
    parser.set_defaults(handler=send)


class _BadArguments(Exception):
    """The command line itself is wrong; the message says how to write it."""


def send(args: argparse.Namespace) -> int:
    """Send one SMS through the same path as `/sms`: parse, check, policy, ledger, OVH, audit in Slack."""
    settings = settings_or_exit(Mode.OFFLINE)
    configure_logging(settings)
    marks = Marks()
    try:
        receivers, message = _receivers_and_message(args.receivers, args.message, settings)
        _check_ids(args.user, args.channel)
        # Cheap checks first: a wrong number or a text too long never touches the database.
        check_message(message, stop_clause=not settings.ovh_no_stop_clause)
    except (InvalidInput, _BadArguments) as error:
        say(f"{marks.failed} Not sent: {_reason(error)}", stream=sys.stderr)
        return 2
    try:
        services = build_core(settings)
    except ConfigurationError as error:
        say(f"{marks.failed} Not sent: {error.user_message}", stream=sys.stderr)
        return 2
    except LedgerUnavailable as error:
        say(
            f"{marks.failed} Not sent: the database (DATABASE_URL) cannot be used: {error.reason}. "
            "`smsbot check` says more.",
            stream=sys.stderr,
        )
        return 2

    request = SendRequest(
        request_key=f"cli:{uuid.uuid4()}",
        source="cli",
        user_id=args.user,
        channel_id=args.channel,
        team_id=None,
        receivers=receivers,
        message=message,
    )
    try:
        if args.dry_run:
            return _dry_run(services, request, marks)
        return _send(services, request, marks)
    finally:
        services.engine.dispose()


def _text(error: Exception) -> str:
    return getattr(error, "user_message", None) or str(error)


def _reason(error: Exception) -> str:
    # Some refusals already open with "Not sent:", which the CLI's own headline says.
    return _text(error).removeprefix("Not sent: ")


def _receivers_and_message(
    numbers: Sequence[str], message: str, settings: Settings
) -> tuple[tuple[Receiver, ...], str]:
    if message == "-":
        message = sys.stdin.read().rstrip("\n")
    receivers = parse_receivers(", ".join(numbers), settings.sms_default_region)
    try:
        parse_receivers(message, settings.sms_default_region)
    except InvalidInput:
        pass
    else:
        raise _BadArguments(
            f"the last argument is the message, but `{message}` reads as a phone number. Put the message "
            'last, in quotes: smsbot send +34600000001 "Your message" --user U…'
        )
    return receivers, message


def _check_ids(user: str, channel: str | None) -> None:
    if not is_id(USER_ID, user):
        raise _BadArguments(
            f"--user must be a Slack user id such as U012ABCDEF (not `{user}`): in Slack, open the "
            "person's profile, ⋮ → Copy member ID."
        )
    if channel is not None and not is_id(CHANNEL_ID, channel):
        raise _BadArguments(
            f"--channel must be a Slack channel id such as C012ABCDEF (not `{channel}`): in Slack, open "
            "the channel's details; the id is at the bottom."
        )


def _refused(
    what: str, refusal: NotAllowed | InvalidInput, services: Core, request: SendRequest, marks: Marks
) -> int:
    say(f"{marks.failed} {what}: {_reason(refusal)}", stream=sys.stderr)
    if isinstance(refusal, NotAllowed) and request.channel_id is None and services.settings.allowed_channels:
        say("SMS_ALLOWED_CHANNELS is set: give --channel with one of those channels.", stream=sys.stderr)
    return 2


def _send(services: Core, request: SendRequest, marks: Marks) -> int:
    printer = _TerminalAudit(services.reporter, request, marks)
    try:
        reported = services.sending.send_and_report(request, printer)
    except DuplicateRequest as duplicate:  # a fresh uuid4 key: only if something is badly wrong
        say(f"{marks.failed} {duplicate.user_message}", stream=sys.stderr)
        return 1
    except (NotAllowed, InvalidInput) as refusal:
        return _refused("Not sent", refusal, services, request, marks)
    except LedgerUnavailable as error:
        # Its message says whether the SMS may have gone out (then: do not send it again); either way the
        # send failed, and nothing here says which, so 1, as for a failed or unknown send.
        say(f"{marks.failed} {error.user_message}", stream=sys.stderr)
        return 1
    if reported.unrecorded is not None:
        say(
            f"{marks.warning} The database did not record where the audit went "
            f"({reported.unrecorded.reason}): the running bot may post it again once the database is back.",
            stream=sys.stderr,
        )
    services.home.refresh(request.user_id)  # their Home tab, if they opened it: never fails the send
    return 0 if reported.record.status is SendStatus.SENT else 1


class _TerminalAudit:
    """The CLI's audit sink: prints the outcome, posts the audit in Slack, and says where it went."""

    def __init__(self, slack: AuditSink, request: SendRequest, marks: Marks) -> None:
        self._slack = slack
        self._request = request
        self._marks = marks

    def report(self, record: SendRecord, note: str | None = None) -> AuditOutcome:
        _print_record(record, self._marks)
        outcome = self._slack.report(record, note)
        user, channel = self._request.user_id, self._request.channel_id
        if outcome.status is AuditStatus.THREAD:
            say(f"Audit thread posted in {channel}.")
        elif outcome.status is AuditStatus.PRIVATE and channel:
            say(
                f"The bot cannot post in {channel}, so {user} got the result privately. "
                "Invite the bot there (/invite @smsbot) to keep the audit trail in the channel."
            )
        elif outcome.status is AuditStatus.PRIVATE:
            say(f"No --channel: {user} got the result as a direct message from the app.")
        else:
            say(
                f"Slack did not take the audit trail now; the running bot posts it once Slack answers "
                f"(send #{record.id} is in the ledger)."
            )
        return outcome

    def report_update(self, record: SendRecord, note: str | None = None) -> AuditOutcome:
        return self._slack.report_update(record, note)


def _print_record(record: SendRecord, marks: Marks) -> None:
    headline = {
        SendStatus.SENT: f"{marks.ok} Sent",
        SendStatus.FAILED: f"{marks.failed} Not sent",
        SendStatus.UNKNOWN: f"{marks.warning} Outcome unknown",
        SendStatus.PENDING: f"{marks.warning} Still waiting for OVH",
    }[record.status]
    where = f", service {record.ovh_service}" if record.ovh_service else ""
    if record.simulated:
        say(
            f"{marks.warning} Simulated (OVH_ENDPOINT=simulator): no SMS was sent; the job ids and credits "
            "below are made up."
        )
    say(f"{headline}: send #{record.id} (OVH tag {record.tag}{where})")
    if record.error_message:
        say(f"reason: {record.error_message}", indent="  ")
    if record.ovh_job_ids:
        say(f"OVH job id(s): {', '.join(str(job) for job in record.ovh_job_ids)}", indent="  ")
    if record.accepted_receivers:
        accepted = ", ".join(record.accepted_receivers)
        say(f"accepted ({len(record.accepted_receivers)}): {accepted}", indent="  ")
    if record.rejected_receivers:
        rejected = ", ".join(record.rejected_receivers)
        say(f"rejected by OVH ({len(record.rejected_receivers)}): {rejected}", indent="  ")
    if record.status in (SendStatus.SENT, SendStatus.FAILED) and record.ovh_service:
        say(
            f"credits used: {_credits(record.credits_used)}, left: {_credits(record.credits_left)}",
            indent="  ",
        )


def estimate_line(cost: CostEstimate) -> str:
    """The estimate in words: the total, then each country's part of it, and whether a rate was assumed."""
    countries = ", ".join(
        f"{country.receivers} to {country.region or 'no country'} at "
        + (
            f"{credits_text(country.rate)} credit(s) per part"
            if country.credits_per_part is not None
            else "1 credit per part (assumed)"
        )
        for country in cost.countries
    )
    line = f"{credits_text(cost.credits)} credit(s): {cost.parts} SMS part(s) for each of {cost.receivers} receiver(s) ({countries})."
    if cost.assumed:
        line += " OVH's rates could not be read, so the estimate assumes one credit per part there."
    return line


def _credits(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}"


def _dry_run(services: Core, request: SendRequest, marks: Marks) -> int:
    try:
        access, segmentation = services.sending.validate(request)
    except (NotAllowed, InvalidInput) as refusal:
        return _refused("Would not be sent", refusal, services, request, marks)
    except LedgerUnavailable as error:
        say(
            f"{marks.failed} Dry run, cannot tell whether it would be sent: {error.user_message}",
            stream=sys.stderr,
        )
        return 1
    receivers = len(request.receivers)
    cost = services.sending.estimate(segmentation, request.receivers)
    estimated = cost.credits
    try:
        services.sending.check_limits(request, access, estimated)
    except NotAllowed as refusal:
        return _refused("Would not be sent", refusal, services, request, marks)
    except LedgerUnavailable as error:
        say(
            f"{marks.failed} Dry run, cannot tell whether it would be sent: the database (DATABASE_URL) did "
            f"not answer ({error.reason}). Nothing was sent. `smsbot check` says more.",
            stream=sys.stderr,
        )
        return 1
    say("Dry run: nothing was sent and no send was recorded.")
    if services.settings.ovh_simulated:
        say(
            f"{marks.warning} OVH_ENDPOINT=simulator: a real run would be simulated too (no SMS leaves this machine)."
        )
    numbers = ", ".join(receiver.e164 for receiver in request.receivers)
    say(f"{marks.ok} to {receivers} receiver(s): {numbers}")
    say(f"{marks.ok} message: {describe(segmentation)}")
    where = f" from {request.channel_id}" if request.channel_id else ""
    admin = (
        " (as an admin: the sending limits do not apply)" if access.admin else ", within the sending limits"
    )
    say(f"{marks.ok} {request.user_id} may send{where}{admin}")
    say(f"estimated cost: {estimate_line(cost)}", indent="  ")
    account = services.account
    try:
        count = account.estimate(request.message)
    except DeliveryError as error:
        why = (
            "the key lacks the optional rule POST /sms/estimate"
            if error.code == "not_granted"
            else f"OVH answered {error.code}"
        )
        say(f"OVH's own count: not available ({why}).", indent="  ")
    else:
        differs = (
            "" if count.parts == segmentation.parts else " (it differs from ours: OVH's is the one billed)"
        )
        say(
            f"OVH's own count: {count.characters} characters ({count.characters_class}), "
            f"{count.parts} part(s){differs}.",
            indent="  ",
        )
    try:
        left = account.credits_left()
    except (DeliveryError, ConfigurationError) as error:
        say(f"credits left: unknown ({_text(error)})", indent="  ")
    else:
        say(f"credits left: {_credits(left)}", indent="  ")
        if left is not None and left < estimated:
            say(f"{marks.warning} Probably not enough credits left for this send.", indent="  ")
    return 0
