"""OVH's errors in our words: every exception of the `ovh` client becomes a :class:`DeliveryError`.

Nothing outside bot/ovh knows about `ovh` exceptions or OVH's error bodies. Each message says what
happened and what to do, and whether the SMS may have gone out anyway (``maybe_sent``), which decides
whether a retry could send twice.
"""

from __future__ import annotations

import requests
from ovh import exceptions as ovh_errors

from bot.domain.errors import DeliveryError
from bot.i18n import T_

# The key rules the bot needs to send (`smsbot check` compares the key's own rules with these).
REQUIRED_RULES = ("GET /sms", "GET /sms/*", "POST /sms/*/jobs")
# A call that cannot send SMS sent nothing, whatever became of its answer: these say so.
_NOTHING_SENT = {
    "timeout": T_("OVH did not answer in time. Nothing was sent: try again in a minute."),
    "unavailable": T_("OVH's API failed before the send. Nothing was sent: try again later."),
}


def translate_error(
    error: ovh_errors.APIError,
    path: str,
    *,
    sender_id: str | None = None,
    service: str | None = None,
    posts: bool = True,
) -> DeliveryError:
    """Map an exception of the ``ovh`` client to a :class:`DeliveryError` people can act on.

    ``posts`` says whether the call could send SMS: if not, a lost answer cannot mean anything was sent.
    """
    translated = _translate(error, path, sender_id=sender_id, service=service)
    if translated.maybe_sent and not posts:
        return DeliveryError(translated.code, _NOTHING_SENT.get(translated.code, translated.message))
    return translated


def key_error(error: ovh_errors.APIError) -> DeliveryError | None:
    """Which of the three keys OVH refused, when it refused the keys themselves."""
    if isinstance(error, ovh_errors.InvalidKey):
        return DeliveryError(
            "invalid_application_key", T_("OVH does not know the application key in OVH_APPLICATION_KEY.")
        )
    if isinstance(error, ovh_errors.InvalidCredential | ovh_errors.NotCredential):
        return DeliveryError(
            "invalid_consumer_key",
            T_(
                "OVH does not accept the consumer key in OVH_CONSUMER_KEY: it is unknown, was never validated, "
                "or was revoked or expired."
            ),
        )
    if isinstance(error, ovh_errors.BadParametersError) and "signature" in str(error).lower():
        return DeliveryError(
            "invalid_signature",
            T_(
                "OVH rejected the requests' signature: OVH_APPLICATION_SECRET is not the secret of "
                "OVH_APPLICATION_KEY."
            ),
        )
    return None


def _status(error: ovh_errors.APIError) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _never_reached_ovh(error: ovh_errors.HTTPError) -> bool:
    """True when the request failed before OVH could have read it (refused or timed-out connection)."""
    cause = error.args[1] if len(error.args) > 1 else error.__cause__
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(cause, requests.exceptions.ConnectionError) and not isinstance(
        cause, requests.exceptions.ReadTimeout
    ):
        return "NewConnectionError" in repr(cause) or "NameResolutionError" in repr(cause)
    return False


def _translate(
    error: ovh_errors.APIError, path: str, *, sender_id: str | None, service: str | None
) -> DeliveryError:
    text = str(getattr(error, "args", [""])[0] or "")
    lowered = text.lower()
    status = _status(error)

    if isinstance(error, ovh_errors.NotGrantedCall):
        return DeliveryError(
            "not_granted",
            T_(
                "OVH refused the call `{path}`: the bot's consumer key was not granted it. "
                "An admin must create a key with the rules {rules} (the README's OVH section lists the exact "
                "rules to grant). Nothing was sent.",
                path=path,
                rules=", ".join(REQUIRED_RULES),
            ),
        )
    if isinstance(error, ovh_errors.InvalidKey | ovh_errors.InvalidCredential | ovh_errors.NotCredential) or (
        isinstance(error, ovh_errors.BadParametersError) and "signature" in lowered
    ):
        return DeliveryError(
            "invalid_credentials",
            T_(
                "OVH rejected the bot's API keys (unknown, revoked or expired, or a wrong secret). "
                "An admin must check OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY "
                "(the README's OVH section lists the exact rules to grant). Nothing was sent."
            ),
        )
    if isinstance(error, ovh_errors.Forbidden):
        return DeliveryError(
            "forbidden",
            T_(
                "OVH refused the call `{path}` for this account: {answer}. Nothing was sent.",
                path=path,
                answer=text,
            ),
        )
    if isinstance(error, ovh_errors.ResourceNotFoundError):
        return DeliveryError(
            "unknown_service",
            T_(
                "OVH has no SMS service `{service}` on this account. An admin must set OVH_SMS_SERVICE "
                "to one of the account's services (`GET /sms` lists them). Nothing was sent.",
                service=service or "?",
            ),
        )
    if "credit" in lowered and status is not None and 400 <= status < 500:
        return DeliveryError(
            "no_credits",
            T_(
                "The OVH SMS account has no credits left for this send. An admin must add credits in the "
                "OVHcloud Control Panel (Telecom → SMS). Nothing was sent."
            ),
        )
    if isinstance(error, ovh_errors.BadParametersError) and "sender" in lowered:
        return DeliveryError(
            "unknown_sender",
            T_(
                "OVH does not accept the sender `{sender}`: it is not registered on the SMS account or not "
                "validated yet. An admin must fix OVH_SMS_SENDER (or leave it empty to use the account's "
                "default sender). Nothing was sent.",
                sender=sender_id,
            ),
        )
    if isinstance(error, ovh_errors.BadParametersError):
        return DeliveryError(
            "rejected", T_("OVH refused the message: {answer}. Nothing was sent.", answer=text)
        )
    if status == 429:
        return DeliveryError(
            "rate_limited",
            T_("OVH is limiting the bot's requests right now. Nothing was sent: try again in a minute."),
        )
    if isinstance(error, ovh_errors.HTTPError):
        if _never_reached_ovh(error):
            return DeliveryError(
                "unreachable", T_("OVH's API cannot be reached right now. Nothing was sent: try again later.")
            )
        return DeliveryError(
            "timeout",
            T_(
                "OVH did not answer in time. The SMS may or may not have gone out: check the receivers' phones "
                "or the OVH history before sending it again."
            ),
            maybe_sent=True,
        )
    if status == 503:
        return DeliveryError(
            "unavailable",
            T_("OVH's SMS service is unavailable right now (HTTP 503). Nothing was sent: try again later."),
        )
    if isinstance(error, ovh_errors.InvalidResponse) or (status is not None and status >= 500):
        shown = f"HTTP {status}" if status else T_("an unreadable answer")
        return DeliveryError(
            "unavailable",
            T_(
                "OVH's API failed while taking the send ({answer}). The SMS may or may not have gone out: "
                "check the OVH history before sending it again.",
                answer=shown,
            ),
            maybe_sent=True,
        )
    return DeliveryError(
        "ovh_error", T_("OVH answered with an error: {answer}.", answer=text or type(error).__name__)
    )
