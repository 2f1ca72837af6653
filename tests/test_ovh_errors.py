"""OVH's failures in the words people read: which code, whether the SMS may have gone out, what to do.

`translate_error` and `key_error` are pure functions of the `ovh` client's exceptions; these tests build the
exceptions as the client raises them (with the HTTP answer, or the `requests` error underneath).
"""

from __future__ import annotations

import pytest
import requests
from ovh import exceptions as ovh_errors

from bot.ovh.errors import key_error, translate_error

PATH = "/sms/sms-tt12345-1/jobs"
KEYS = (
    "OVH rejected the bot's API keys (unknown, revoked or expired, or a wrong secret). An admin must check "
    "OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY (the README's OVH section lists the "
    "exact rules to grant). Nothing was sent."
)
MAYBE_FAILED = (
    "OVH's API failed while taking the send ({}). The SMS may or may not have gone out: check the OVH "
    "history before sending it again."
)
TIMEOUT = (
    "OVH did not answer in time. The SMS may or may not have gone out: check the receivers' phones or the "
    "OVH history before sending it again."
)


def answered(status: int) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    return response


def low_level(cause: Exception, *, as_cause: bool = False) -> ovh_errors.HTTPError:
    """The client's HTTPError for a `requests` failure: the cause as its second argument, or chained."""
    if not as_cause:
        return ovh_errors.HTTPError("Low HTTP request failed error", cause)
    error = ovh_errors.HTTPError("Low HTTP request failed error")
    error.__cause__ = cause
    return error


NEW_CONNECTION = requests.exceptions.ConnectionError(
    "HTTPSConnectionPool(host='eu.api.ovh.com', port=443): Max retries exceeded (Caused by "
    "NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))"
)
CASES = {
    "not granted": (
        ovh_errors.NotGrantedCall("This call has not been granted", response=answered(403)),
        "not_granted",
        False,
        f"OVH refused the call `{PATH}`: the bot's consumer key was not granted it. An admin must create a "
        "key with the rules GET /sms, GET /sms/*, POST /sms/*/jobs (the README's OVH section lists the exact "
        "rules to grant). Nothing was sent.",
    ),
    "invalid key": (ovh_errors.InvalidKey("Invalid application key"), "invalid_credentials", False, KEYS),
    "invalid credential": (ovh_errors.InvalidCredential("nope"), "invalid_credentials", False, KEYS),
    "not credential": (ovh_errors.NotCredential("nope"), "invalid_credentials", False, KEYS),
    "bad signature": (ovh_errors.BadParametersError("Invalid Signature"), "invalid_credentials", False, KEYS),
    "forbidden": (
        ovh_errors.Forbidden("not yours"),
        "forbidden",
        False,
        f"OVH refused the call `{PATH}` for this account: not yours. Nothing was sent.",
    ),
    "unknown service": (
        ovh_errors.ResourceNotFoundError("The requested object does not exist"),
        "unknown_service",
        False,
        "OVH has no SMS service `sms-tt12345-1` on this account. An admin must set OVH_SMS_SERVICE to one of "
        "the account's services (`GET /sms` lists them). Nothing was sent.",
    ),
    "no credits (400)": (
        ovh_errors.BadParametersError("Not enough Credits to send", response=answered(400)),
        "no_credits",
        False,
        "The OVH SMS account has no credits left for this send. An admin must add credits in the OVHcloud "
        "Control Panel (Telecom → SMS). Nothing was sent.",
    ),
    "no credits (499)": (
        ovh_errors.APIError("credit exhausted", response=answered(499)),
        "no_credits",
        False,
        "The OVH SMS account has no credits left for this send. An admin must add credits in the OVHcloud "
        "Control Panel (Telecom → SMS). Nothing was sent.",
    ),
    "credits named in a 5xx": (
        ovh_errors.APIError("credit service down", response=answered(500)),
        "unavailable",
        True,
        MAYBE_FAILED.format("HTTP 500"),
    ),
    "credits named without an answer": (
        ovh_errors.APIError("credit"),
        "ovh_error",
        False,
        "OVH answered with an error: credit.",
    ),
    "unknown sender": (
        ovh_errors.BadParametersError("Sms Sender ACME does not exists"),
        "unknown_sender",
        False,
        "OVH does not accept the sender `ACME`: it is not registered on the SMS account or not validated "
        "yet. An admin must fix OVH_SMS_SENDER (or leave it empty to use the account's default sender). "
        "Nothing was sent.",
    ),
    "rejected": (
        ovh_errors.BadParametersError("Invalid receivers list"),
        "rejected",
        False,
        "OVH refused the message: Invalid receivers list. Nothing was sent.",
    ),
    "rate limited": (
        ovh_errors.APIError("Too many requests", response=answered(429)),
        "rate_limited",
        False,
        "OVH is limiting the bot's requests right now. Nothing was sent: try again in a minute.",
    ),
    "connect timeout": (
        low_level(requests.exceptions.ConnectTimeout("connect timed out")),
        "unreachable",
        False,
        "OVH's API cannot be reached right now. Nothing was sent: try again later.",
    ),
    "connection refused": (
        low_level(NEW_CONNECTION),
        "unreachable",
        False,
        "OVH's API cannot be reached right now. Nothing was sent: try again later.",
    ),
    "connection refused, chained": (
        low_level(NEW_CONNECTION, as_cause=True),
        "unreachable",
        False,
        "OVH's API cannot be reached right now. Nothing was sent: try again later.",
    ),
    "name not resolved": (
        low_level(requests.exceptions.ConnectionError("NameResolutionError(host='eu.api.ovh.com')")),
        "unreachable",
        False,
        "OVH's API cannot be reached right now. Nothing was sent: try again later.",
    ),
    "read timeout": (low_level(requests.exceptions.ReadTimeout("read timed out")), "timeout", True, TIMEOUT),
    "connection reset": (
        low_level(requests.exceptions.ConnectionError("('Connection aborted.', RemoteDisconnected())")),
        "timeout",
        True,
        TIMEOUT,
    ),
    "no cause": (ovh_errors.HTTPError("Low HTTP request failed error"), "timeout", True, TIMEOUT),
    "503": (
        ovh_errors.APIError("Service unavailable", response=answered(503)),
        "unavailable",
        False,
        "OVH's SMS service is unavailable right now (HTTP 503). Nothing was sent: try again later.",
    ),
    "unreadable answer": (
        ovh_errors.InvalidResponse("Failed to decode API response"),
        "unavailable",
        True,
        MAYBE_FAILED.format("an unreadable answer"),
    ),
    "unreadable 502": (
        ovh_errors.InvalidResponse("Failed to decode API response", response=answered(502)),
        "unavailable",
        True,
        MAYBE_FAILED.format("HTTP 502"),
    ),
    "another error": (
        ovh_errors.ResourceConflictError("Already exists", response=answered(409)),
        "ovh_error",
        False,
        "OVH answered with an error: Already exists.",
    ),
    "an error without words": (
        ovh_errors.ResourceConflictError(None, response=answered(409)),  # an answer with no message
        "ovh_error",
        False,
        "OVH answered with an error: ResourceConflictError.",
    ),
}


@pytest.mark.parametrize(("error", "code", "maybe_sent", "says"), CASES.values(), ids=CASES.keys())
def test_each_failure_of_a_send_says_what_happened_and_what_to_do(error, code, maybe_sent, says):
    translated = translate_error(error, PATH, sender_id="ACME", service="sms-tt12345-1")

    assert (translated.code, translated.maybe_sent, translated.user_message) == (code, maybe_sent, says)


def test_an_unknown_service_that_was_never_named_shows_a_question_mark():
    translated = translate_error(ovh_errors.ResourceNotFoundError("no"), "/sms", service=None)

    assert translated.user_message.startswith("OVH has no SMS service `?` on this account.")


@pytest.mark.parametrize(
    ("error", "code", "says"),
    [
        (
            low_level(requests.exceptions.ReadTimeout("read timed out")),
            "timeout",
            "OVH did not answer in time. Nothing was sent: try again in a minute.",
        ),
        (
            ovh_errors.APIError("Internal Server Error", response=answered(500)),
            "unavailable",
            "OVH's API failed before the send. Nothing was sent: try again later.",
        ),
    ],
)
def test_a_call_that_cannot_send_sent_nothing_whatever_became_of_its_answer(error, code, says):
    translated = translate_error(error, "/sms/sms-tt12345-1/outgoing", posts=False)

    assert (translated.code, translated.maybe_sent, translated.user_message) == (code, False, says)


def test_a_call_that_cannot_send_keeps_the_words_of_a_plain_refusal():
    refused = ovh_errors.BadParametersError("Invalid receivers list")

    told = [translate_error(refused, PATH, posts=posts) for posts in (False, True)]

    assert {(error.code, error.maybe_sent, error.user_message) for error in told} == {
        ("rejected", False, "OVH refused the message: Invalid receivers list. Nothing was sent.")
    }


@pytest.mark.parametrize(
    ("error", "code", "says"),
    [
        (
            ovh_errors.InvalidKey("Invalid application key"),
            "invalid_application_key",
            "OVH does not know the application key in OVH_APPLICATION_KEY.",
        ),
        (
            ovh_errors.InvalidCredential("This credential does not exist"),
            "invalid_consumer_key",
            "OVH does not accept the consumer key in OVH_CONSUMER_KEY: it is unknown, was never validated, "
            "or was revoked or expired.",
        ),
        (
            ovh_errors.NotCredential("This credential is not valid"),
            "invalid_consumer_key",
            "OVH does not accept the consumer key in OVH_CONSUMER_KEY: it is unknown, was never validated, "
            "or was revoked or expired.",
        ),
        (
            ovh_errors.BadParametersError("Invalid signature"),
            "invalid_signature",
            "OVH rejected the requests' signature: OVH_APPLICATION_SECRET is not the secret of "
            "OVH_APPLICATION_KEY.",
        ),
    ],
)
def test_a_refused_key_is_named(error, code, says):
    named = key_error(error)

    assert named is not None
    assert (named.code, named.maybe_sent, named.user_message) == (code, False, says)


@pytest.mark.parametrize(
    "error",
    [
        ovh_errors.BadParametersError("Invalid receivers"),
        ovh_errors.Forbidden("no"),
        ovh_errors.NotGrantedCall("no"),
    ],
)
def test_other_refusals_name_no_key(error):
    assert key_error(error) is None
