"""`smsbot check`, after a send: how deliveries are followed, OVH's push (the account's callback against
OVH_CALLBACK_TOKEN), where replies go, and the credit alert. Reads only; the token is never printed."""

from __future__ import annotations

from bot.checks.result import CheckResult, Status
from bot.domain.errors import ConfigurationError, DeliveryError
from bot.ovh.client import OvhClient
from bot.ovh.deliveries import OvhDeliveries
from bot.settings import Settings

AREA = "After a send"
CALLBACK_PATH = "/ovh/callback/"


def masked(url: str, token: str | None) -> str:
    """A callback URL fit to print: its token (ours, or whatever follows /ovh/callback/) as ``***``."""
    if token and token in url:
        return url.replace(token, "***")
    head, found, _tail = url.partition(CALLBACK_PATH)
    return f"{head}{CALLBACK_PATH}***" if found else url


def check_delivery(settings: Settings, deliveries: OvhDeliveries | None = None) -> list[CheckResult]:
    """What follows a send: polling, OVH's callback, replies and the credit alert."""
    results = [
        CheckResult(
            AREA,
            "delivery",
            Status.OK,
            f"each SMS is followed for {settings.delivery_validity_hours:g} h, read every "
            f"{settings.delivery_poll_seconds:g} s while young and less often as it ages, within "
            f"{settings.ovh_reads_per_minute} OVH read(s) a minute shared by every instance.",
        ),
        _callback(settings, deliveries),
        _replies(settings),
        _credit_alert(settings),
    ]
    return results


def _callback(settings: Settings, deliveries: OvhDeliveries | None) -> CheckResult:
    name = "OVH callback"
    token = settings.ovh_callback_token
    if settings.ovh_simulated:
        return CheckResult(AREA, name, Status.SKIPPED, "not checked: OVH is simulated.")
    deliveries = deliveries or OvhDeliveries(OvhClient.from_settings(settings))
    try:
        url = deliveries.callback_url(deliveries.service_name())
    except (DeliveryError, ConfigurationError) as error:
        reason = error.code if isinstance(error, DeliveryError) else "no SMS service to read"
        return CheckResult(
            AREA, name, Status.WARNING, f"the account's callback could not be read ({reason})."
        )
    ours = bool(token and url and url.endswith(CALLBACK_PATH + token))
    if ours and url is not None:
        return CheckResult(
            AREA, name, Status.OK, f"OVH pushes changes to {masked(url, token)} (OVH_CALLBACK_TOKEN matches)."
        )
    how = "`smsbot callback set https://YOUR-HOST/ovh/callback/<OVH_CALLBACK_TOKEN>` (key rule PUT /sms/*)"
    if token and url is None:
        return CheckResult(
            AREA,
            name,
            Status.WARNING,
            "OVH_CALLBACK_TOKEN is set but the account has no callback: deliveries are only polled.",
            f"Run {how}.",
        )
    if url is not None:
        return CheckResult(
            AREA,
            name,
            Status.WARNING,
            f"the account's callback is {masked(url, token)}, which does not end with "
            f"{CALLBACK_PATH}<OVH_CALLBACK_TOKEN>: the bot answers those pushes 404 (deliveries are still polled).",
            f"Set OVH_CALLBACK_TOKEN and run {how}, or leave it if another tool uses the callback.",
        )
    return CheckResult(
        AREA,
        name,
        Status.OK,
        f"not used: deliveries are read every {settings.delivery_poll_seconds:g} s. In HTTP mode, OVH can "
        "push changes: set OVH_CALLBACK_TOKEN, then run `smsbot callback set URL`.",
    )


def _replies(settings: Settings) -> CheckResult:
    where = (
        f"replies that match no send go to <#{settings.replies_channel}>"
        if settings.replies_channel
        else "replies that match no send are kept in the database and logged (SMS_REPLIES_CHANNEL is unset)"
    )
    answer = (
        "sends ask OVH for a sender people can answer (SMS_ALLOW_REPLIES=true)"
        if settings.allow_replies
        else "people can answer only where the sender allows it (SMS_ALLOW_REPLIES=false)"
    )
    return CheckResult(
        AREA,
        "replies",
        Status.OK,
        f"replies go to the thread of the latest send to the number; {where}; {answer}.",
    )


def _credit_alert(settings: Settings) -> CheckResult:
    if settings.credits_alert_below is None or settings.alert_channel is None:
        return CheckResult(
            AREA,
            "credit alert",
            Status.OK,
            "off: set SMS_CREDITS_ALERT_BELOW and SMS_ALERT_CHANNEL to be warned before credits run out.",
        )
    return CheckResult(
        AREA,
        "credit alert",
        Status.OK,
        f"posted once in <#{settings.alert_channel}> when the credits left fall below "
        f"{settings.credits_alert_below:g} (SMS_CREDITS_ALERT_BELOW, SMS_ALERT_CHANNEL).",
    )
