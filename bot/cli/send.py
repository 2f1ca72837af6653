"""`smsbot send`: send an SMS from the terminal through the same path as `/sms`, or dry-run it."""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from collections.abc import Sequence

from bot.app import Core, build_core
from bot.cli.output import Marks, audit_language, cli_translator, say, settings_or_exit
from bot.domain.cost import CostEstimate
from bot.domain.errors import ConfigurationError, DeliveryError, InvalidInput, LedgerUnavailable, NotAllowed
from bot.domain.receivers import Receiver, parse_receivers
from bot.domain.records import AuditStatus, DuplicateRequest, SendRecord, SendStatus
from bot.domain.sms_text import check_message, describe
from bot.i18n import ENGLISH, T_, Text, Translator, in_
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

    def __init__(self, message: Text) -> None:
        super().__init__(str(message))
        self.message = message

    def user_message_in(self, t: Translator) -> str:
        return self.message.in_(t)


def send(args: argparse.Namespace) -> int:
    """Send one SMS through the same path as `/sms`: parse, check, policy, ledger, OVH, audit in Slack."""
    settings = settings_or_exit(Mode.OFFLINE)
    configure_logging(settings)
    marks = Marks()
    t = cli_translator()
    try:
        receivers, message = _receivers_and_message(args.receivers, args.message, settings)
        _check_ids(args.user, args.channel)
        # Cheap checks first: a wrong number or a text too long never touches the database.
        check_message(message, stop_clause=not settings.ovh_no_stop_clause)
    except (InvalidInput, _BadArguments) as error:
        say(f"{marks.failed} {t._('Not sent: {reason}').format(reason=_reason(error, t))}", stream=sys.stderr)
        return 2
    try:
        services = build_core(settings)
    except ConfigurationError as error:
        say(f"{marks.failed} {t._('Not sent: {reason}').format(reason=_text(error, t))}", stream=sys.stderr)
        return 2
    except LedgerUnavailable as error:
        told = t._(
            "Not sent: the database (DATABASE_URL) cannot be used: {reason}. `smsbot check` says more."
        ).format(reason=error.reason)
        say(f"{marks.failed} {told}", stream=sys.stderr)
        return 2

    request = SendRequest(
        request_key=f"cli:{uuid.uuid4()}",
        source="cli",
        user_id=args.user,
        channel_id=args.channel,
        team_id=None,
        receivers=receivers,
        message=message,
        language=audit_language(settings),  # the audit thread's, as a Slack send's is its requester's
    )
    try:
        if args.dry_run:
            return _dry_run(services, request, marks, t)
        return _send(services, request, marks, t)
    finally:
        services.engine.dispose()


def _text(error: Exception, t: Translator) -> str:
    told = getattr(error, "user_message_in", None)
    return (told(t) if told else "") or str(error)


def _reason(error: Exception, t: Translator) -> str:
    # Some refusals already open with "Not sent:", which the CLI's own headline says.
    return _text(error, t).removeprefix(t._("Not sent: {reason}").format(reason=""))


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
            T_(
                "the last argument is the message, but `{text}` reads as a phone number. Put the message "
                'last, in quotes: smsbot send +34600000001 "Your message" --user U…',
                text=message,
            )
        )
    return receivers, message


def _check_ids(user: str, channel: str | None) -> None:
    if not is_id(USER_ID, user):
        raise _BadArguments(
            T_(
                "--user must be a Slack user id such as U012ABCDEF (not `{user}`): in Slack, open the "
                "person's profile, ⋮ → Copy member ID.",
                user=user,
            )
        )
    if channel is not None and not is_id(CHANNEL_ID, channel):
        raise _BadArguments(
            T_(
                "--channel must be a Slack channel id such as C012ABCDEF (not `{channel}`): in Slack, open "
                "the channel's details; the id is at the bottom.",
                channel=channel,
            )
        )


def _refused(
    headline: str,
    refusal: NotAllowed | InvalidInput,
    services: Core,
    request: SendRequest,
    marks: Marks,
    t: Translator,
) -> int:
    """``headline`` is a translated sentence with a ``{reason}`` field."""
    say(f"{marks.failed} {headline.format(reason=_reason(refusal, t))}", stream=sys.stderr)
    if isinstance(refusal, NotAllowed) and request.channel_id is None and services.settings.allowed_channels:
        say(t._("SMS_ALLOWED_CHANNELS is set: give --channel with one of those channels."), stream=sys.stderr)
    return 2


def _send(services: Core, request: SendRequest, marks: Marks, t: Translator) -> int:
    printer = _TerminalAudit(services.reporter, request, marks, t)
    try:
        reported = services.sending.send_and_report(request, printer)
    except DuplicateRequest as duplicate:  # a fresh uuid4 key: only if something is badly wrong
        say(f"{marks.failed} {_text(duplicate, t)}", stream=sys.stderr)
        return 1
    except (NotAllowed, InvalidInput) as refusal:
        return _refused(t._("Not sent: {reason}"), refusal, services, request, marks, t)
    except LedgerUnavailable as error:
        # Its message says whether the SMS may have gone out (then: do not send it again); either way the
        # send failed, and nothing here says which, so 1, as for a failed or unknown send.
        say(f"{marks.failed} {error.user_message_in(t)}", stream=sys.stderr)
        return 1
    if reported.unrecorded is not None:
        told = t._(
            "The database did not record where the audit went ({reason}): the running bot may post it again "
            "once the database is back."
        ).format(reason=reported.unrecorded.reason)
        say(f"{marks.warning} {told}", stream=sys.stderr)
    services.home.refresh(reported.record)  # their Home tab, if they opened it: never fails the send
    return 0 if reported.record.status is SendStatus.SENT else 1


class _TerminalAudit:
    """The CLI's audit sink: prints the outcome, posts the audit in Slack, and says where it went."""

    def __init__(self, slack: AuditSink, request: SendRequest, marks: Marks, t: Translator) -> None:
        self._slack = slack
        self._request = request
        self._marks = marks
        self._t = t

    def report(self, record: SendRecord, note: str | None = None) -> AuditOutcome:
        t = self._t
        _print_record(record, self._marks, t)
        outcome = self._slack.report(record, note)
        user, channel = self._request.user_id, self._request.channel_id
        if outcome.status is AuditStatus.THREAD:
            say(t._("Audit thread posted in {channel}.").format(channel=channel))
        elif outcome.status is AuditStatus.PRIVATE and channel:
            say(
                t._(
                    "The bot cannot post in {channel}, so {user} got the result privately. "
                    "Invite the bot there (/invite @smsbot) to keep the audit trail in the channel."
                ).format(channel=channel, user=user)
            )
        elif outcome.status is AuditStatus.PRIVATE:
            say(
                t._("No --channel: {user} got the result as a direct message from the app.").format(user=user)
            )
        else:
            say(
                t._(
                    "Slack did not take the audit trail now; the running bot posts it once Slack answers "
                    "(send #{id} is in the ledger)."
                ).format(id=record.id)
            )
        return outcome

    def report_update(self, record: SendRecord, note: str | None = None) -> AuditOutcome:
        return self._slack.report_update(record, note)


def _print_record(record: SendRecord, marks: Marks, t: Translator) -> None:
    headline = {
        SendStatus.SENT: f"{marks.ok} " + t._("Sent: send #{id} (OVH tag {tag})"),
        SendStatus.FAILED: f"{marks.failed} " + t._("Not sent: send #{id} (OVH tag {tag})"),
        SendStatus.UNKNOWN: f"{marks.warning} " + t._("Outcome unknown: send #{id} (OVH tag {tag})"),
        SendStatus.PENDING: f"{marks.warning} " + t._("Still waiting for OVH: send #{id} (OVH tag {tag})"),
    }[record.status]
    tag = (
        t._("{tag}, service {service}").format(tag=record.tag, service=record.ovh_service)
        if record.ovh_service
        else record.tag
    )
    if record.simulated:
        say(
            f"{marks.warning} "
            + t._(
                "Simulated (OVH_ENDPOINT=simulator): no SMS was sent; the job ids and credits below are made up."
            )
        )
    say(headline.format(id=record.id, tag=tag))
    if record.error_message:
        # The ledger keeps the failure as a message too: told in the terminal's language.
        reason = in_(record.error_text, t) if record.error_text is not None else record.error_message
        say(t._("reason: {reason}").format(reason=reason), indent="  ")
    if record.ovh_job_ids:
        jobs = ", ".join(str(job) for job in record.ovh_job_ids)
        say(
            t.ngettext("OVH job id: {jobs}", "OVH job ids: {jobs}", len(record.ovh_job_ids)).format(
                jobs=jobs
            ),
            indent="  ",
        )
    if record.accepted_receivers:
        accepted = ", ".join(record.accepted_receivers)
        say(
            t._("accepted ({count}): {numbers}").format(
                count=len(record.accepted_receivers), numbers=accepted
            ),
            indent="  ",
        )
    if record.rejected_receivers:
        rejected = ", ".join(record.rejected_receivers)
        say(
            t._("rejected by OVH ({count}): {numbers}").format(
                count=len(record.rejected_receivers), numbers=rejected
            ),
            indent="  ",
        )
    if record.status in (SendStatus.SENT, SendStatus.FAILED) and record.ovh_service:
        say(
            t._("credits used: {used}, left: {left}").format(
                used=_credits(record.credits_used, t), left=_credits(record.credits_left, t)
            ),
            indent="  ",
        )


def estimate_line(cost: CostEstimate, t: Translator = ENGLISH) -> str:
    """The estimate in words: the total, then each country's part of it, and whether a rate was assumed."""
    countries = ", ".join(
        (
            t.ngettext(
                "{count} to {country} at {rate} credit per part",
                "{count} to {country} at {rate} credits per part",
                _credit_count(country.rate),
            )
            if country.credits_per_part is not None
            else t._("{count} to {country} at 1 credit per part (assumed)")
        ).format(
            count=country.receivers,
            country=country.region or t._("no country"),
            rate=t.number(country.rate, 2),
        )
        for country in cost.countries
    )
    line = t._("{credits}: {parts} for each of {receivers} ({countries}).").format(
        credits=t.ngettext("{credits} credit", "{credits} credits", _credit_count(cost.credits)).format(
            credits=t.number(cost.credits, 2)
        ),
        parts=t.ngettext("{count} SMS part", "{count} SMS parts", cost.parts).format(count=cost.parts),
        receivers=t.ngettext("{count} receiver", "{count} receivers", cost.receivers).format(
            count=cost.receivers
        ),
        countries=countries,
    )
    if cost.assumed:
        line += " " + t._("OVH's rates could not be read, so the estimate assumes one credit per part there.")
    return line


def _credit_count(credits: float) -> int:
    # Credits may be fractions (2.5): only exactly one is singular.
    return 1 if credits == 1 else 2


def _credits(value: float | None, t: Translator) -> str:
    return t._("unknown") if value is None else t.number(value, 2)


def _dry_run(services: Core, request: SendRequest, marks: Marks, t: Translator) -> int:
    would_not = t._("Would not be sent: {reason}")
    cannot_tell = t._("Dry run, cannot tell whether it would be sent: {reason}")
    try:
        access, segmentation = services.sending.validate(request)
    except (NotAllowed, InvalidInput) as refusal:
        return _refused(would_not, refusal, services, request, marks, t)
    except LedgerUnavailable as error:
        say(f"{marks.failed} {cannot_tell.format(reason=error.user_message_in(t))}", stream=sys.stderr)
        return 1
    receivers = len(request.receivers)
    cost = services.sending.estimate(segmentation, request.receivers)
    estimated = cost.credits
    try:
        services.sending.check_limits(request, access, estimated)
    except NotAllowed as refusal:
        return _refused(would_not, refusal, services, request, marks, t)
    except LedgerUnavailable as error:
        why = t._(
            "the database (DATABASE_URL) did not answer ({reason}). Nothing was sent. `smsbot check` says more."
        ).format(reason=error.reason)
        say(f"{marks.failed} {cannot_tell.format(reason=why)}", stream=sys.stderr)
        return 1
    say(t._("Dry run: nothing was sent and no send was recorded."))
    if services.settings.ovh_simulated:
        say(
            f"{marks.warning} "
            + t._("OVH_ENDPOINT=simulator: a real run would be simulated too (no SMS leaves this machine).")
        )
    numbers = ", ".join(receiver.e164 for receiver in request.receivers)
    say(
        f"{marks.ok} "
        + t.ngettext("to {count} receiver: {numbers}", "to {count} receivers: {numbers}", receivers).format(
            count=receivers, numbers=numbers
        )
    )
    say(f"{marks.ok} " + t._("message: {size}").format(size=describe(segmentation).in_(t)))
    if access.admin:
        may = (
            t._("{user} may send from {channel} (as an admin: the sending limits do not apply)")
            if request.channel_id
            else t._("{user} may send (as an admin: the sending limits do not apply)")
        )
    else:
        may = (
            t._("{user} may send from {channel}, within the sending limits")
            if request.channel_id
            else t._("{user} may send, within the sending limits")
        )
    say(f"{marks.ok} " + may.format(user=request.user_id, channel=request.channel_id))
    say(t._("estimated cost: {estimate}").format(estimate=estimate_line(cost, t)), indent="  ")
    account = services.account
    try:
        count = account.estimate(request.message)
    except DeliveryError as error:
        why = (
            t._("the key lacks the optional rule POST /sms/estimate")
            if error.code == "not_granted"
            else t._("OVH answered {code}").format(code=error.code)
        )
        say(t._("OVH's own count: not available ({reason}).").format(reason=why), indent="  ")
    else:
        own = t.ngettext(
            "OVH's own count: {characters} characters ({kind}), {count} part.",
            "OVH's own count: {characters} characters ({kind}), {count} parts.",
            count.parts,
        ).format(characters=count.characters, kind=count.characters_class, count=count.parts)
        if count.parts != segmentation.parts:
            own = own.removesuffix(".") + " " + t._("(it differs from ours: OVH's is the one billed).")
        say(own, indent="  ")
    try:
        left = account.credits_left()
    except (DeliveryError, ConfigurationError) as error:
        say(t._("credits left: unknown ({reason})").format(reason=_text(error, t)), indent="  ")
    else:
        say(t._("credits left: {left}").format(left=_credits(left, t)), indent="  ")
        if left is not None and left < estimated:
            say(f"{marks.warning} " + t._("Probably not enough credits left for this send."), indent="  ")
    return 0
