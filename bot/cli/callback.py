"""`smsbot callback`: point the OVH account's push (``callBack``) at the bot, show it, or clear it.

OVH calls that URL when a sent SMS changes state; the bot takes it in HTTP mode at
``/ovh/callback/<OVH_CALLBACK_TOKEN>``. Setting it needs the key rule ``PUT /sms/*`` (optional: without
it, deliveries are polled all the same). The token is never printed.
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from bot.checks.delivery import CALLBACK_PATH, masked
from bot.checks.ovh import create_token_url
from bot.cli.output import cli_translator, say, sdk_logs_quiet, settings_or_exit
from bot.domain.errors import ConfigurationError, DeliveryError
from bot.i18n import Translator
from bot.logs import configure_logging
from bot.ovh.client import OvhClient
from bot.ovh.deliveries import OvhDeliveries
from bot.ovh.errors import REQUIRED_RULES
from bot.settings import Mode, Settings


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Declare `smsbot callback set URL | show | clear`."""
    parser = commands.add_parser(
        "callback",
        help="point OVH's delivery push at the bot (HTTP mode), show it, or clear it",
        description="OVH calls the account's callback URL when a sent SMS changes state. `set URL` points it "
        "at https://YOUR-HOST/ovh/callback/<OVH_CALLBACK_TOKEN> (key rule PUT /sms/*); `show` prints it "
        "(token hidden); `clear` removes it. Exit status: 0 done, 1 OVH refused or failed, 2 the URL or the "
        "settings are wrong.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    setter = actions.add_parser("set", help="set the account's callback URL")
    setter.add_argument("url", help="https://YOUR-HOST/ovh/callback/<OVH_CALLBACK_TOKEN>")
    actions.add_parser("show", help="print the account's callback URL (token hidden)")
    actions.add_parser("clear", help="remove the account's callback URL")
    parser.set_defaults(handler=callback)


def _refuse(text: str) -> int:
    say(text, stream=sys.stderr)
    return 2


def _url_problem(url: str, settings: Settings, t: Translator) -> str | None:
    token = settings.ovh_callback_token
    if token is None:
        return t._(
            "Set OVH_CALLBACK_TOKEN first (24+ letters, digits, - or _; "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`), restart the bot with it, then "
            "run this again: the bot answers a push only at /ovh/callback/<OVH_CALLBACK_TOKEN>."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return t._(
            "The URL must be a web address such as https://YOUR-HOST{path}<OVH_CALLBACK_TOKEN>."
        ).format(path=CALLBACK_PATH)
    if parts.query or parts.fragment or not parts.path.endswith(CALLBACK_PATH + token):
        return t._(
            "The URL must end with {path}<OVH_CALLBACK_TOKEN> (the value of OVH_CALLBACK_TOKEN, "
            "nothing after it): the bot answers any other path 404. Got {url}."
        ).format(path=CALLBACK_PATH, url=masked(url, token))
    return None


def callback(args: argparse.Namespace) -> int:
    """Run `smsbot callback ACTION`."""
    settings = settings_or_exit(Mode.OFFLINE)
    configure_logging(settings)
    t = cli_translator()
    if settings.ovh_simulated:
        return _refuse(t._("OVH_ENDPOINT=simulator: there is no OVH account whose callback to set."))
    token = settings.ovh_callback_token
    url = ""
    if args.action == "set":
        url = args.url.strip()
        if problem := _url_problem(url, settings, t):
            return _refuse(problem)
    deliveries = OvhDeliveries(OvhClient.from_settings(settings))
    with sdk_logs_quiet(settings):
        try:
            service = deliveries.service_name()
            if args.action == "show":
                current = deliveries.callback_url(service)
                shown = masked(current, token) if current else t._("not set")
                say(t._("{service}: callback {url}.").format(service=service, url=shown))
                return 0
            deliveries.set_callback_url(service, url)
        except ConfigurationError as error:
            return _refuse(error.user_message_in(t))
        except DeliveryError as error:
            if error.code == "not_granted":
                link = create_token_url(settings, (*REQUIRED_RULES, "PUT /sms/*"))
                say(
                    t._(
                        "OVH refused: the key was not granted PUT /sms/*, which setting the callback needs "
                        "(sending does not). Create a key with it at {link} and put its three values in "
                        "OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY."
                    ).format(link=link),
                    stream=sys.stderr,
                )
            else:
                told = t._("OVH did not take it ({code}): {reason}").format(
                    code=error.code, reason=error.user_message_in(t)
                )
                say(told, stream=sys.stderr)
            return 1
    if url:
        say(
            t._("{service}: OVH now pushes delivery changes to {url}. `smsbot check` shows it.").format(
                service=service, url=masked(url, token)
            )
        )
    else:
        say(
            t._("{service}: callback cleared; deliveries are polled every {seconds} s.").format(
                service=service, seconds=f"{settings.delivery_poll_seconds:g}"
            )
        )
    return 0
