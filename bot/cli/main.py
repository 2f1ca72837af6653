"""The `smsbot` command: run the bot, check its set-up, or send an SMS from the terminal.

Exit statuses:

- ``smsbot check``: 0 when every check passed (warnings allowed), 1 when one failed.
- ``smsbot send``: 0 sent (OVH accepted at least one receiver), 1 failed or outcome unknown (the database
  failing mid-way included: the message says whether anything may have gone out), 2 nothing was sent
  because of the input or the access rules. With ``--dry-run``: 0 it would go, 1 the database could not
  be read to tell, 2 it would not.
- Every command: 2 when the settings cannot be read (each problem is named).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import textwrap
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from dotenv import load_dotenv
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.checks import Status, exit_status, run_checks
from bot.domain.errors import ConfigurationError, DeliveryError, InvalidInput, LedgerUnavailable, NotAllowed
from bot.domain.receivers import Receiver, parse_receivers
from bot.domain.records import AuditStatus, DuplicateRequest, SendRecord, SendStatus
from bot.domain.sms_text import check_message, describe
from bot.logs import configure_logging
from bot.sending.service import SendRequest
from bot.services import Services, build_services
from bot.settings import Mode, Settings, load_settings
from bot.slack.audit import AuditOutcome

if TYPE_CHECKING:
    from bot.app import SmsBot

log = logging.getLogger("smsbot")

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_WIDTH = 100


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smsbot", description="Send SMS from Slack through OVHcloud.")
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser("run", help="run the bot (Socket Mode by default)")
    run_parser.add_argument(
        "--http", action="store_true", help="serve POST /slack/events instead of Socket Mode"
    )
    run_parser.add_argument(
        "--host",
        default="0.0.0.0",  # noqa: S104 - a server's default; --host 127.0.0.1 narrows it
        help="address to listen on in HTTP mode (default 0.0.0.0)",
    )
    run_parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", "3000")), help="HTTP port (default 3000)"
    )
    run_parser.add_argument("--threads", type=int, default=32, help="HTTP server threads (default 32)")
    run_parser.set_defaults(handler=run)

    check_parser = commands.add_parser(
        "check",
        help="check the Slack app, the OVH keys and the database, and say what to fix",
        description="Check the set-up without changing anything. Exit status: 0 all good (warnings "
        "allowed), 1 something must be fixed, 2 the settings cannot be read.",
    )
    check_parser.set_defaults(handler=check)

    send_parser = commands.add_parser(
        "send",
        help="send an SMS from the terminal, with the same rules and audit trail as /sms",
        description="Send an SMS as a Slack user would with /sms: the access rules apply to --user, and "
        "the send is recorded in the ledger and reported in Slack. Exit status: 0 sent, 1 failed or "
        "outcome unknown, 2 not sent (bad input, not allowed, or settings).",
    )
    send_parser.add_argument(
        "receivers",
        nargs="+",
        metavar="RECEIVER",
        help="phone number(s): several arguments and/or comma-separated lists",
    )
    send_parser.add_argument(
        "message", metavar="MESSAGE", help="the text, in quotes; `-` reads it from standard input"
    )
    send_parser.add_argument(
        "--user",
        required=True,
        help="the Slack user id (U…) sending it: the access rules apply to them and the ledger names them",
    )
    send_parser.add_argument(
        "--channel",
        help="the channel id (C…) to post the audit thread in (its access rules apply); without it, "
        "the user gets the result as a direct message",
    )
    send_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything and estimate the cost, but send nothing and record nothing",
    )
    send_parser.set_defaults(handler=send)
    return parser


def _settings(mode: Mode) -> Settings:
    env_file = Path.cwd() / ".env"
    load_dotenv(env_file, override=False)
    try:
        return load_settings(os.environ, mode)
    except ConfigurationError as error:
        print(error.user_message, file=sys.stderr)
        if not env_file.exists():
            print(
                "\nNo .env file here: copy .env.example to .env and fill it in. Create the Slack app from "
                "manifest.yml and the OVH keys as the README's Set-up section says.",
                file=sys.stderr,
            )
        raise SystemExit(2) from None


def _stop_on_sigterm() -> None:
    def stop(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


class _Marks:
    """✓ ✗ ! - where the terminal can show them, ASCII words where it cannot (a C locale, a Windows pipe)."""

    def __init__(self) -> None:
        try:
            "✓✗".encode(sys.stdout.encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            self.ok, self.failed, self.warning, self.skipped = "OK", "FAIL", "WARN", "SKIP"
        else:
            self.ok, self.failed, self.warning, self.skipped = "✓", "✗", "!", "-"


def _say(text: str, *, indent: str = "", stream: object = None) -> None:
    """Print ``text`` wrapped for a terminal; URLs and long words are never broken."""
    lines = textwrap.wrap(
        text,
        width=_WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + "    ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    print("\n".join(lines) or indent, file=stream or sys.stdout)


# --- smsbot run ------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Start the bot and serve until interrupted; in-flight sends finish before exit."""
    from bot.app import create_bot

    settings = _settings(Mode.HTTP if args.http else Mode.SOCKET)
    configure_logging(settings)
    try:
        bot = create_bot(settings)
    except ConfigurationError as error:
        print(error.user_message, file=sys.stderr)
        return 2
    except BoltError as error:  # Bolt checks the bot token with auth.test as the app is built
        print(f"Slack refused SLACK_BOT_TOKEN ({error}): {_BOT_TOKEN_HELP}", file=sys.stderr)
        return 2
    except LedgerUnavailable as error:
        print(
            f"The database in DATABASE_URL cannot be used ({error.reason}): check that it runs, "
            "the address and the credentials. `smsbot check` says more.",
            file=sys.stderr,
        )
        return 2
    _stop_on_sigterm()
    bot.start_recovery()
    try:
        if args.http:
            return _serve_http(bot, args)
        return _serve_socket_mode(bot, settings)
    except KeyboardInterrupt:
        log.info("stopping: waiting for sends in flight")
        return 0
    finally:
        bot.close()


_BOT_TOKEN_HELP = "copy the Bot User OAuth Token (OAuth & Permissions page) into SLACK_BOT_TOKEN."  # noqa: S105 - advice, not a secret
_REFUSED_TOKEN = {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "not_allowed_token_type"}


def _serve_http(bot: SmsBot, args: argparse.Namespace) -> int:
    from bot.server.http import HttpServer

    server = HttpServer(bot, args.host, args.port, threads=args.threads)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        # A KeyboardInterrupt could land anywhere in waitress's loop; the server's own stop lets it finish
        # the step it is in, stop accepting and answer the requests in flight. A second signal: stop waiting.
        if server.stopping:
            raise KeyboardInterrupt
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("smsbot listening on http://%s:%s/slack/events", args.host, server.port)
    server.serve()
    log.info("stopping: waiting for sends in flight")
    return 0


def _serve_socket_mode(bot: SmsBot, settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(bot.app, settings.slack_app_token)
    log.info("smsbot connecting to Slack in Socket Mode")
    try:
        handler.start()
    except SlackApiError as error:
        code = error.response.get("error")
        if code not in _REFUSED_TOKEN:
            raise
        print(
            f"Slack refused SLACK_APP_TOKEN ({code}): generate an app-level token with the `connections:write` "
            "scope (Basic Information → App-Level Tokens) and put it in SLACK_APP_TOKEN.",
            file=sys.stderr,
        )
        return 2
    finally:
        # Leave Slack first, so that it routes new requests to other connections while sends drain.
        handler.close()
    return 0


# --- smsbot check ----------------------------------------------------------------------------------------


def check(_args: argparse.Namespace) -> int:
    """Run every check of :mod:`bot.checks`, print one line each (with the fix for a problem)."""
    settings = _settings(Mode.OFFLINE)
    configure_logging(settings)
    env_file = Path.cwd() / ".env"
    source = f"{env_file} and the environment" if env_file.exists() else "the environment (no .env here)"
    print(f"smsbot check: settings from {source}")
    marks = _Marks()
    symbol = {
        Status.OK: marks.ok,
        Status.FAILED: marks.failed,
        Status.WARNING: marks.warning,
        Status.SKIPPED: marks.skipped,
    }
    results = run_checks(settings)
    area = None
    for result in results:
        if result.area != area:
            area = result.area
            print(f"\n{area}")
        _say(f"{symbol[result.status]} {result.name}: {result.detail}", indent="  ")
        if result.fix and result.status in (Status.FAILED, Status.WARNING):
            _say(f"fix: {result.fix}", indent="      ")
    failed = sum(result.status is Status.FAILED for result in results)
    warnings = sum(result.status is Status.WARNING for result in results)
    print()
    if failed:
        _say(
            f"{marks.failed} {failed} problem(s) to fix, {warnings} warning(s). Fix the {marks.failed} "
            "lines above, then run `smsbot check` again."
        )
    elif warnings:
        _say(f"{marks.ok} Ready to run, with {warnings} warning(s) worth a look.")
    else:
        _say(f"{marks.ok} All good: the bot is ready to run.")
    return exit_status(results)


# --- smsbot send -----------------------------------------------------------------------------------------


class _BadArguments(Exception):
    """The command line itself is wrong; the message says how to write it."""


def send(args: argparse.Namespace) -> int:
    """Send one SMS through the same path as `/sms`: parse, check, policy, ledger, OVH, audit in Slack."""
    settings = _settings(Mode.OFFLINE)
    configure_logging(settings)
    marks = _Marks()
    try:
        receivers, message = _receivers_and_message(args.receivers, args.message, settings)
        _check_ids(args.user, args.channel)
        # Cheap checks first: a wrong number or a text too long never touches the database.
        check_message(message, stop_clause=not settings.ovh_no_stop_clause)
    except (InvalidInput, _BadArguments) as error:
        _say(f"{marks.failed} Not sent: {_reason(error)}", stream=sys.stderr)
        return 2
    try:
        services = build_services(settings)
    except ConfigurationError as error:
        _say(f"{marks.failed} Not sent: {error.user_message}", stream=sys.stderr)
        return 2
    except LedgerUnavailable as error:
        _say(
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
    if not _USER_ID.match(user):
        raise _BadArguments(
            f"--user must be a Slack user id such as U012ABCDEF (not `{user}`): in Slack, open the "
            "person's profile, ⋮ → Copy member ID."
        )
    if channel is not None and not _CHANNEL_ID.match(channel):
        raise _BadArguments(
            f"--channel must be a Slack channel id such as C012ABCDEF (not `{channel}`): in Slack, open "
            "the channel's details; the id is at the bottom."
        )


def _refused(
    what: str, refusal: NotAllowed | InvalidInput, services: Services, request: SendRequest, marks: _Marks
) -> int:
    _say(f"{marks.failed} {what}: {_reason(refusal)}", stream=sys.stderr)
    if isinstance(refusal, NotAllowed) and request.channel_id is None and services.settings.allowed_channels:
        _say("SMS_ALLOWED_CHANNELS is set: give --channel with one of those channels.", stream=sys.stderr)
    return 2


def _send(services: Services, request: SendRequest, marks: _Marks) -> int:
    try:
        record = services.sending.send(request)
    except DuplicateRequest as duplicate:  # a fresh uuid4 key: only if something is badly wrong
        _say(f"{marks.failed} {duplicate.user_message}", stream=sys.stderr)
        return 1
    except (NotAllowed, InvalidInput) as refusal:
        return _refused("Not sent", refusal, services, request, marks)
    except LedgerUnavailable as error:
        # Its message says whether the SMS may have gone out (then: do not send it again); either way the
        # send failed, and nothing here says which, so 1, as for a failed or unknown send.
        _say(f"{marks.failed} {error.user_message}", stream=sys.stderr)
        return 1
    # Should reporting itself break, the running bot's recovery posts the audit later.
    outcome = AuditOutcome(AuditStatus.FAILED)
    try:
        _print_record(record, marks)
        outcome = services.reporter.report(record, response_url=None)
        audit = outcome.status
        if audit is AuditStatus.THREAD:
            _say(f"Audit thread posted in {request.channel_id}.")
        elif audit is AuditStatus.PRIVATE and request.channel_id:
            _say(
                f"The bot cannot post in {request.channel_id}, so {request.user_id} got the result privately. "
                "Invite the bot there (/invite @smsbot) to keep the audit trail in the channel."
            )
        elif audit is AuditStatus.PRIVATE:
            _say(f"No --channel: {request.user_id} got the result as a direct message from the app.")
        else:
            _say(
                f"Slack did not take the audit trail now; the running bot posts it once Slack answers "
                f"(send #{record.id} is in the ledger)."
            )
    finally:
        try:
            services.sending.finish(record, outcome.status, outcome.channel_id, outcome.ts)
        except LedgerUnavailable as error:
            # What was sent is settled in the ledger already; only where its audit went is not.
            _say(
                f"{marks.warning} The database did not record where the audit went "
                f"({error.reason}): the running bot may post it again once the database is back.",
                stream=sys.stderr,
            )
    return 0 if record.status is SendStatus.SENT else 1


def _print_record(record: SendRecord, marks: _Marks) -> None:
    headline = {
        SendStatus.SENT: f"{marks.ok} Sent",
        SendStatus.FAILED: f"{marks.failed} Not sent",
        SendStatus.UNKNOWN: f"{marks.warning} Outcome unknown",
        SendStatus.PENDING: f"{marks.warning} Still waiting for OVH",
    }[record.status]
    where = f", service {record.ovh_service}" if record.ovh_service else ""
    _say(f"{headline}: send #{record.id} (OVH tag {record.tag}{where})")
    if record.error_message:
        _say(f"reason: {record.error_message}", indent="  ")
    if record.ovh_job_ids:
        _say(f"OVH job id(s): {', '.join(str(job) for job in record.ovh_job_ids)}", indent="  ")
    if record.accepted_receivers:
        accepted = ", ".join(record.accepted_receivers)
        _say(f"accepted ({len(record.accepted_receivers)}): {accepted}", indent="  ")
    if record.rejected_receivers:
        rejected = ", ".join(record.rejected_receivers)
        _say(f"rejected by OVH ({len(record.rejected_receivers)}): {rejected}", indent="  ")
    if record.status in (SendStatus.SENT, SendStatus.FAILED) and record.ovh_service:
        _say(
            f"credits used: {_credits(record.credits_used)}, left: {_credits(record.credits_left)}",
            indent="  ",
        )


def _credits(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}"


def _dry_run(services: Services, request: SendRequest, marks: _Marks) -> int:
    try:
        access, segmentation = services.sending.validate(request)
    except (NotAllowed, InvalidInput) as refusal:
        return _refused("Would not be sent", refusal, services, request, marks)
    except LedgerUnavailable as error:
        _say(
            f"{marks.failed} Dry run, cannot tell whether it would be sent: {error.user_message}",
            stream=sys.stderr,
        )
        return 1
    receivers = len(request.receivers)
    estimated = float(segmentation.parts * receivers)
    try:
        if not access.admin:
            # The same guard the ledger runs when recording a send, on today's usage, without recording.
            usage = services.ledger.usage(request.user_id, request.channel_id)
            services.settings.limits.guard(receivers, estimated)(*usage)
    except NotAllowed as refusal:
        return _refused("Would not be sent", refusal, services, request, marks)
    except LedgerUnavailable as error:
        _say(
            f"{marks.failed} Dry run, cannot tell whether it would be sent: the database (DATABASE_URL) did "
            f"not answer ({error.reason}). Nothing was sent. `smsbot check` says more.",
            stream=sys.stderr,
        )
        return 1
    _say("Dry run: nothing was sent and nothing was recorded.")
    numbers = ", ".join(receiver.e164 for receiver in request.receivers)
    _say(f"{marks.ok} to {receivers} receiver(s): {numbers}")
    _say(f"{marks.ok} message: {describe(segmentation)}")
    where = f" from {request.channel_id}" if request.channel_id else ""
    admin = (
        " (as an admin: the sending limits do not apply)" if access.admin else ", within the sending limits"
    )
    _say(f"{marks.ok} {request.user_id} may send{where}{admin}")
    _say(
        f"estimated cost: {estimated:g} credit(s), {segmentation.parts} SMS part(s) for each of "
        f"{receivers} receiver(s). It is an estimate: OVH prices by destination, and some countries cost more than "
        "one credit per part.",
        indent="  ",
    )
    account = services.account
    try:
        count = account.estimate(request.message)
    except DeliveryError as error:
        why = (
            "the key lacks the optional rule POST /sms/estimate"
            if error.code == "not_granted"
            else f"OVH answered {error.code}"
        )
        _say(f"OVH's own count: not available ({why}).", indent="  ")
    else:
        differs = (
            "" if count.parts == segmentation.parts else " (it differs from ours: OVH's is the one billed)"
        )
        _say(
            f"OVH's own count: {count.characters} characters ({count.characters_class}), "
            f"{count.parts} part(s){differs}.",
            indent="  ",
        )
    try:
        left = account.credits_left()
    except (DeliveryError, ConfigurationError) as error:
        _say(f"credits left: unknown ({_text(error)})", indent="  ")
    else:
        _say(f"credits left: {_credits(left)}", indent="  ")
        if left is not None and left < estimated:
            _say(f"{marks.warning} Probably not enough credits left for this send.", indent="  ")
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `smsbot` script; exits with the command's status (see the module docstring)."""
    args = _parser().parse_args(argv)
    status = args.handler(args)
    if status:
        raise SystemExit(status)


if __name__ == "__main__":
    main()
