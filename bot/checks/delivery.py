"""`smsbot check`, after a send: how deliveries are followed, OVH's push (the account's callback against
OVH_CALLBACK_TOKEN), where replies go, and the credit alert. Reads only; the token is never printed."""

from __future__ import annotations

from bot.checks.result import CheckResult, Status
from bot.domain.errors import ConfigurationError, DeliveryError
from bot.i18n import N_, T_, Tn_
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
            N_("delivery"),
            Status.OK,
            Tn_(
                "each SMS is followed for {hours} h, read every {seconds} s while young and less often as it "
                "ages, within {count} OVH read a minute shared by every instance.",
                "each SMS is followed for {hours} h, read every {seconds} s while young and less often as it "
                "ages, within {count} OVH reads a minute shared by every instance.",
                settings.ovh_reads_per_minute,
                hours=format(settings.delivery_validity_hours, "g"),
                seconds=format(settings.delivery_poll_seconds, "g"),
            ),
        ),
        _callback(settings, deliveries),
        _replies(settings),
        _credit_alert(settings),
    ]
    return results


def _callback(settings: Settings, deliveries: OvhDeliveries | None) -> CheckResult:
    name = N_("OVH callback")
    token = settings.ovh_callback_token
    if settings.ovh_simulated:
        return CheckResult(AREA, name, Status.SKIPPED, N_("not checked: OVH is simulated."))
    deliveries = deliveries or OvhDeliveries(OvhClient.from_settings(settings))
    try:
        url = deliveries.callback_url(deliveries.service_name())
    except (DeliveryError, ConfigurationError) as error:
        reason = error.code if isinstance(error, DeliveryError) else T_("no SMS service to read")
        return CheckResult(
            AREA,
            name,
            Status.WARNING,
            T_("the account's callback could not be read ({reason}).", reason=reason),
        )
    ours = bool(token and url and url.endswith(CALLBACK_PATH + token))
    if ours and url is not None:
        return CheckResult(
            AREA,
            name,
            Status.OK,
            T_("OVH pushes changes to {url} (OVH_CALLBACK_TOKEN matches).", url=masked(url, token)),
        )
    how = "`smsbot callback set https://YOUR-HOST/ovh/callback/<OVH_CALLBACK_TOKEN>`"
    if token and url is None:
        return CheckResult(
            AREA,
            name,
            Status.WARNING,
            N_("OVH_CALLBACK_TOKEN is set but the account has no callback: deliveries are only polled."),
            T_("Run {command} (key rule PUT /sms/*).", command=how),
        )
    if url is not None:
        return CheckResult(
            AREA,
            name,
            Status.WARNING,
            T_(
                "the account's callback is {url}, which does not end with {path}<OVH_CALLBACK_TOKEN>: the bot "
                "answers those pushes 404 (deliveries are still polled).",
                url=masked(url, token),
                path=CALLBACK_PATH,
            ),
            T_(
                "Set OVH_CALLBACK_TOKEN and run {command} (key rule PUT /sms/*), or leave it if another tool "
                "uses the callback.",
                command=how,
            ),
        )
    return CheckResult(
        AREA,
        name,
        Status.OK,
        T_(
            "not used: deliveries are read every {seconds} s. In HTTP mode, OVH can push changes: set "
            "OVH_CALLBACK_TOKEN, then run `smsbot callback set URL`.",
            seconds=format(settings.delivery_poll_seconds, "g"),
        ),
    )


def _replies(settings: Settings) -> CheckResult:
    where = (
        T_("replies that match no send go to <#{channel}>", channel=settings.replies_channel)
        if settings.replies_channel
        else T_(
            "replies that match no send are kept in the database and logged (SMS_REPLIES_CHANNEL is unset)"
        )
    )
    answer = (
        T_("sends ask OVH for a sender people can answer (SMS_ALLOW_REPLIES=true)")
        if settings.allow_replies
        else T_("people can answer only where the sender allows it (SMS_ALLOW_REPLIES=false)")
    )
    return CheckResult(
        AREA,
        N_("replies"),
        Status.OK,
        T_(
            "replies go to the thread of the latest send to the number; {where}; {answer}.",
            where=where,
            answer=answer,
        ),
    )


def _credit_alert(settings: Settings) -> CheckResult:
    if settings.credits_alert_below is None or settings.alert_channel is None:
        return CheckResult(
            AREA,
            N_("credit alert"),
            Status.OK,
            N_("off: set SMS_CREDITS_ALERT_BELOW and SMS_ALERT_CHANNEL to be warned before credits run out."),
        )
    return CheckResult(
        AREA,
        "credit alert",
        Status.OK,
        T_(
            "posted once in <#{channel}> when the credits left fall below {credits} (SMS_CREDITS_ALERT_BELOW, "
            "SMS_ALERT_CHANNEL).",
            channel=settings.alert_channel,
            credits=format(settings.credits_alert_below, "g"),
        ),
    )
