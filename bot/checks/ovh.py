"""Checks of OVH: the keys work and hold the rules the bot needs; the SMS service, its credits, the sender."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.checks.result import CheckResult, Status, shown_url
from bot.domain.errors import DeliveryError
from bot.i18n import N_, T_, Text, Tn_, Translatable, joined
from bot.ovh.account import Credential, OvhAccount, SmsAccount
from bot.ovh.errors import REQUIRED_RULES
from bot.settings import Settings

EXPIRY_WARNING = timedelta(days=14)
# A service name that only stands for "any" when checking rules before the real one is known.
_ANY_SERVICE = "sms-xx00000-1"
# What a sender's status means, said of the sender ("`ACME` is disabled: …"), and what to do.
_SENDER_STATUS = {
    "waitingValidation": (
        N_(
            "`{sender}` is waiting for OVH's validation: sends with it fail until OVH validates it (this can "
            "take a few days, and OVH may ask for a document)."
        ),
        N_(
            "Wait for the validation (OVHcloud Control Panel → Telecom → SMS → Senders), or leave "
            "OVH_SMS_SENDER empty meanwhile to send from the account's default sender."
        ),
    ),
    "refused": (
        N_("`{sender}` was refused by OVH: sends with it fail."),
        N_(
            "See why in the OVHcloud Control Panel (Telecom → SMS → Senders), then register another sender "
            "and put it in OVH_SMS_SENDER, or leave OVH_SMS_SENDER empty to use the account's default sender."
        ),
    ),
    "disable": (
        N_("`{sender}` is disabled: sends with it fail."),
        N_(
            "Enable it in the OVHcloud Control Panel (Telecom → SMS → Senders), or leave OVH_SMS_SENDER "
            "empty to use the account's default sender."
        ),
    ),
}


@dataclass(frozen=True)
class _Need:
    rule: str  # as granted at createToken, e.g. "POST /sms/*/jobs"
    method: str
    path: str  # a concrete path the bot calls
    required: bool


def create_token_url(settings: Settings, rules: Iterable[str] = REQUIRED_RULES) -> str:
    """The OVH page that creates keys with exactly ``rules``, for the configured region or API URL."""
    base = settings.ovh_base_url.rstrip("/")
    base = base.removesuffix("/1.0")
    query = "&".join(rule.replace(" ", "=", 1) for rule in rules)
    return f"{base}/createToken/?{query}"


def rule_matches(rule: tuple[str, str], method: str, path: str) -> bool:
    """Whether an OVH access rule (method, path pattern) allows ``method path``.

    In a rule's path, `*` stands for any characters, `/` included: `GET /sms/*` allows `GET /sms/x/y`
    but not `GET /sms`.
    """
    rule_method, pattern = rule
    if rule_method.upper() != method.upper():
        return False
    regex = ".*".join(re.escape(piece) for piece in pattern.split("*"))
    return re.fullmatch(regex, path) is not None


def _needs(service: str, service_configured: bool) -> list[_Need]:
    get_sms, get_service, post_jobs = REQUIRED_RULES
    return [
        _Need(get_sms, "GET", "/sms", required=not service_configured),
        _Need(get_service, "GET", f"/sms/{service}", required=True),  # credits left
        _Need(get_service, "GET", f"/sms/{service}/outgoing", required=True),  # recovery finds lost sends
        _Need(post_jobs, "POST", f"/sms/{service}/jobs", required=True),
    ]


def _broader_rules(rules: Iterable[tuple[str, str]]) -> list[str]:
    """Granted rules that allow more than the bot's own rules do (a full-access key, for instance)."""
    needed = [(method, path) for method, path in (rule.split(" ", 1) for rule in REQUIRED_RULES)]
    broader = []
    for method, pattern in rules:
        if (method.upper(), pattern) == ("GET", "/auth/currentCredential"):
            continue  # every key may read its own credential anyway
        example = pattern.replace("*", "x")
        if not any(rule_matches(rule, method, example) for rule in needed):
            broader.append(f"{method.upper()} {pattern}")
    return broader


def check_ovh(
    settings: Settings, queries: OvhAccount | None = None, *, now: datetime | None = None
) -> list[CheckResult]:
    """The keys work and hold the rules the bot needs; the SMS service, its credits and the sender."""
    if settings.ovh_simulated:
        return [
            CheckResult(
                "OVH",
                N_("simulator"),
                Status.WARNING,
                N_(
                    "OVH_ENDPOINT=simulator: OVH is simulated on this machine. No SMS is sent, nothing reaches "
                    "OVH, and the keys are not checked; every audit trail says the send was simulated."
                ),
                N_(
                    "To send real SMS, set OVH_ENDPOINT (ovh-eu, ovh-ca or ovh-us) and the three OVH keys "
                    "(the README's Set-up, step 2), then run `smsbot check` again."
                ),
            )
        ]
    queries = queries or OvhAccount.from_settings(settings)
    now = now or datetime.now(UTC)
    link = create_token_url(settings)
    new_keys = T_(
        "Create keys with exactly the rules the bot needs at {link} and put the three values it shows in "
        "OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY.",
        link=link,
    )
    base_url = shown_url(settings.ovh_base_url)
    try:
        credential: Credential | None = queries.current_credential()
    except DeliveryError as error:
        if error.code != "not_granted":
            keys = _keys_failure(error, base_url, new_keys)
            return [keys, *_skipped_ovh(settings, T_("not checked: the OVH keys do not work."))]
        credential = None  # OVH always lets a key read itself; if it does not, judge by the calls below
    keys = CheckResult("OVH", N_("API keys"), Status.OK, T_("accepted by {url}.", url=base_url))
    if credential is not None and credential.status != "validated":
        keys = CheckResult(
            "OVH",
            "API keys",
            Status.FAILED,
            T_("the consumer key's status is {status}.", status=credential.status),
            new_keys,
        )

    service_results, service, account = _service(settings, queries, new_keys)
    results = [keys]
    if credential is None:
        results.append(
            CheckResult(
                "OVH",
                N_("key rules"),
                Status.WARNING,
                N_(
                    "OVH did not show the key's rules (GET /auth/currentCredential was refused); the calls "
                    "below show what works."
                ),
            )
        )
    else:
        results.append(_rules_result(settings, credential, service, new_keys))
        results.append(_expiry_result(credential, now, link))
    results += service_results
    if account is not None and service is not None:
        results.append(_credits_result(account))
        results.append(_sender_result(settings, queries, service))
    else:
        unusable = N_("not checked: no usable SMS service.")
        results.append(CheckResult("OVH", N_("credits"), Status.SKIPPED, unusable))
        if settings.ovh_sms_sender:
            results.append(CheckResult("OVH", N_("sender"), Status.SKIPPED, unusable))
    return results


def _keys_failure(error: DeliveryError, base_url: str, new_keys: Text) -> CheckResult:
    if error.code in {"invalid_application_key", "invalid_consumer_key"}:
        return CheckResult("OVH", "API keys", Status.FAILED, error.message, new_keys)
    if error.code == "invalid_signature":
        link = new_keys.fields["link"]
        return CheckResult(
            "OVH",
            "API keys",
            Status.FAILED,
            error.message,
            T_(
                "Copy the application secret that came with OVH_APPLICATION_KEY into OVH_APPLICATION_SECRET. "
                "Or create new keys with exactly the rules the bot needs at {link} and put the three values it "
                "shows in OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY.",
                link=link,
            ),
        )
    if error.code in {"unreachable", "timeout", "unavailable", "rate_limited"}:
        return CheckResult(
            "OVH",
            "API keys",
            Status.FAILED,
            T_("OVH's API at {url} did not answer properly ({code}).", url=base_url, code=error.code),
            N_(
                "Check the network and OVH_ENDPOINT (ovh-eu, ovh-ca, ovh-us, or the API's base URL), then try "
                "again; OVH's status page is https://public-cloud.status-ovhcloud.com/."
            ),
        )
    return CheckResult(
        "OVH", "API keys", Status.FAILED, T_("OVH refused the keys: {reason}", reason=error.message), new_keys
    )


def _skipped_ovh(settings: Settings, why: Text) -> list[CheckResult]:
    names = ["key rules", N_("key expiry"), N_("SMS service"), "credits"]
    if settings.ovh_sms_sender:
        names.append("sender")
    return [CheckResult("OVH", name, Status.SKIPPED, why) for name in names]


def _rules_result(
    settings: Settings, credential: Credential, service: str | None, new_keys: Text
) -> CheckResult:
    configured = settings.ovh_sms_service is not None
    needs = _needs(service or settings.ovh_sms_service or _ANY_SERVICE, configured)
    missing = [n for n in needs if not any(rule_matches(r, n.method, n.path) for r in credential.rules)]
    required_missing = list(dict.fromkeys(n.rule for n in missing if n.required))
    broader = _broader_rules(credential.rules)
    if required_missing:
        return CheckResult(
            "OVH",
            "key rules",
            Status.FAILED,
            Tn_(
                "the key is not allowed {rules}: OVH will refuse this call with NOT_GRANTED_CALL.",
                "the key is not allowed {rules}: OVH will refuse these calls with NOT_GRANTED_CALL.",
                len(required_missing),
                rules=", ".join(required_missing),
            ),
            new_keys,
        )
    if broader:
        return CheckResult(
            "OVH",
            "key rules",
            Status.WARNING,
            T_("the key also allows {rules}, more than the bot needs.", rules=", ".join(broader)),
            joined([T_("A key limited to the bot's rules does less harm if the .env leaks."), new_keys]),
        )
    rules = ", ".join(dict.fromkeys(n.rule for n in needs))
    if missing:
        granted: Translatable = T_(
            "{rules} ({rule} is not granted: fine while OVH_SMS_SERVICE is set).",
            rules=rules,
            rule=missing[0].rule,
        )
    else:
        granted = T_("{rules}.", rules=rules)
    return CheckResult("OVH", "key rules", Status.OK, granted)


def _expiry_result(credential: Credential, now: datetime, link: str) -> CheckResult:
    expiration = credential.expiration
    if expiration is None:
        return CheckResult("OVH", "key expiry", Status.OK, N_("the key never expires."))
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    when = expiration.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    renew = T_(
        "Create a new key before then at {link}, and put its values in the OVH_* variables.", link=link
    )
    left = expiration - now
    if left <= timedelta(0):
        return CheckResult(
            "OVH", "key expiry", Status.FAILED, T_("the key expired on {when}.", when=when), renew
        )
    if left <= EXPIRY_WARNING:
        days = math.ceil(left / timedelta(days=1))
        soon = (
            T_("the key expires within a day, on {when}: sends fail after.", when=when)
            if left < timedelta(days=1)
            else Tn_(
                "the key expires in {count} day, on {when}: sends fail after.",
                "the key expires in {count} days, on {when}: sends fail after.",
                days,
                when=when,
            )
        )
        return CheckResult("OVH", "key expiry", Status.WARNING, soon, renew)
    return CheckResult("OVH", "key expiry", Status.OK, T_("the key expires on {when}.", when=when))


def _service(
    settings: Settings, queries: OvhAccount, new_keys: Text
) -> tuple[list[CheckResult], str | None, SmsAccount | None]:
    """The SMS service result(s), the service name to use, and its account (None when unusable)."""
    configured = settings.ovh_sms_service
    name = "SMS service"
    try:
        if configured is None:
            services = queries.list_services()
            if not services:
                return (
                    [
                        CheckResult(
                            "OVH",
                            name,
                            Status.FAILED,
                            N_("the OVH account has no SMS service."),
                            N_(
                                "Order one in the OVHcloud Control Panel (Telecom → SMS), or use the keys of the "
                                "account that has it."
                            ),
                        )
                    ],
                    None,
                    None,
                )
            if len(services) > 1:
                return (
                    [
                        CheckResult(
                            "OVH",
                            name,
                            Status.FAILED,
                            T_(
                                "OVH_SMS_SERVICE is not set and the account has {count} SMS services: "
                                "{services}.",
                                count=len(services),
                                services=", ".join(services),
                            ),
                            N_("Set OVH_SMS_SERVICE to the one the bot should send with."),
                        )
                    ],
                    None,
                    None,
                )
            service = services[0]
        else:
            service = configured
        account = queries.account(service)
    except DeliveryError as error:
        return [_ovh_call_failure(name, error, new_keys)], configured, None
    if account is None:
        try:
            listed = queries.list_services()
        except DeliveryError:
            fix: Text = T_("Set OVH_SMS_SERVICE to one of the account's SMS services (GET /sms lists them).")
        else:
            fix = (
                T_(
                    "Set OVH_SMS_SERVICE to one of the account's SMS services: {services}.",
                    services=", ".join(listed),
                )
                if listed
                else T_("Set OVH_SMS_SERVICE to one of the account's SMS services: it has none.")
            )
        missing = T_("the account has no SMS service {service}.", service=service)
        return (
            [CheckResult("OVH", name, Status.FAILED, missing, fix)],
            service,
            None,
        )
    if account.status not in (None, "enable"):
        return (
            [
                CheckResult(
                    "OVH",
                    name,
                    Status.FAILED,
                    T_("{service} is {status}.", service=service, status=account.status),
                    N_("See the service in the OVHcloud Control Panel (Telecom → SMS)."),
                )
            ],
            service,
            None,
        )
    used = (
        T_("{service} (the account's only one; OVH_SMS_SERVICE is not set).", service=service)
        if configured is None
        else T_("{service}.", service=service)
    )
    return [CheckResult("OVH", name, Status.OK, used)], service, account


def _ovh_call_failure(name: str, error: DeliveryError, new_keys: Text) -> CheckResult:
    if error.code == "not_granted":
        return CheckResult(
            "OVH", name, Status.FAILED, N_("OVH refused the call: the key was not granted it."), new_keys
        )
    return CheckResult(
        "OVH", name, Status.FAILED, T_("OVH answered with an error ({code}).", code=error.code), None
    )


def _credits_result(account: SmsAccount) -> CheckResult:
    credits = account.credits_left
    if credits is None:
        return CheckResult("OVH", "credits", Status.WARNING, N_("OVH did not say how many credits are left."))
    if credits <= 0:
        return CheckResult(
            "OVH",
            "credits",
            Status.WARNING,
            N_("no credits left: every send fails until credits are added."),
            N_("Buy SMS credits in the OVHcloud Control Panel (Telecom → SMS → Order credits)."),
        )
    left = Tn_(
        "{count} credit left.", "{count} credits left.", 1 if credits == 1 else 2, count=format(credits, "g")
    )
    return CheckResult("OVH", "credits", Status.OK, left)


def _sender_result(settings: Settings, queries: OvhAccount, service: str) -> CheckResult:
    sender = settings.ovh_sms_sender
    if not sender:
        return CheckResult(
            "OVH", "sender", Status.OK, N_("OVH_SMS_SENDER is empty: OVH uses the account's default sender.")
        )
    try:
        status = queries.sender_status(service, sender)
    except DeliveryError as error:
        if error.code == "not_granted":
            return CheckResult(
                "OVH",
                "sender",
                Status.SKIPPED,
                T_(
                    "not checked: the key may not read {service}'s senders (GET /sms/* covers it).",
                    service=service,
                ),
            )
        return CheckResult("OVH", "sender", Status.FAILED, T_("cannot be read ({code}).", code=error.code))
    if status is None:
        return CheckResult(
            "OVH",
            "sender",
            Status.FAILED,
            T_(
                "`{sender}` is not a sender of {service}: sends with it fail.", sender=sender, service=service
            ),
            N_(
                "Register it in the OVHcloud Control Panel (Telecom → SMS → Senders) and wait for its "
                "validation, or fix OVH_SMS_SENDER, or leave it empty to use the account's default sender."
            ),
        )
    if status == "enable":
        return CheckResult("OVH", "sender", Status.OK, T_("`{sender}` is enabled.", sender=sender))
    if status in _SENDER_STATUS:
        detail, fix = _SENDER_STATUS[status]
        return CheckResult("OVH", "sender", Status.FAILED, T_(detail, sender=sender), fix)
    return CheckResult(
        "OVH",
        "sender",
        Status.FAILED,
        T_(
            "`{sender}` has the status {status}, not enable: sends with it may fail.",
            sender=sender,
            status=status,
        ),
        N_("See the sender in the OVHcloud Control Panel (Telecom → SMS → Senders)."),
    )
