"""The OVH adapters against the fake OVH API: what they ask, how names travel in paths, what failures say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import ConfigurationError, DeliveryError
from bot.i18n import for_locale
from bot.ovh.account import TRACE_DETAILS, OvhAccount
from bot.ovh.client import OvhClient
from bot.ovh.deliveries import OvhDeliveries
from bot.ovh.gateway import OvhGateway

SERVICE = "sms-tt12345-1"


def failure(call) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        call()
    return caught.value


def test_a_sender_is_looked_up_by_its_whole_name_even_with_a_slash(make_settings, fake_ovh):
    fake_ovh.senders = {"ACME": "enable", "ACME/EU": "waitingValidation"}
    account = OvhAccount.from_settings(make_settings())

    assert account.sender_status(SERVICE, "ACME") == "enable"
    assert account.sender_status(SERVICE, "ACME/EU") == "waitingValidation"
    assert account.sender_status(SERVICE, "NOBODY") is None
    # A sender OVH lists with no status (null) has none: it is not enabled.
    fake_ovh.answer_next(
        {"sender": "ACME", "status": None}, path_contains="/senders/", method="GET", after_processing=False
    )
    assert account.sender_status(SERVICE, "ACME") == ""


def test_a_service_name_is_one_path_segment_whatever_it_holds(make_settings, fake_ovh):
    fake_ovh.services = ["sms/odd name"]
    fake_ovh.senders = {"ACME": "enable"}
    account = OvhAccount.from_settings(make_settings())

    assert account.sender_status("sms/odd name", "ACME") == "enable"
    assert account.account("sms/odd name").name == "sms/odd name"


def test_a_sender_lookup_refused_as_a_bad_sender_names_the_sender(make_settings, fake_ovh):
    fake_ovh.senders = {"ACME": "enable"}
    fake_ovh.fail_next(400, message="Invalid sender", path_contains="/senders/")

    error = failure(lambda: OvhAccount.from_settings(make_settings()).sender_status(SERVICE, "ACME"))

    assert error.code == "unknown_sender"
    assert error.user_message == (
        "OVH does not accept the sender `ACME`: it is not registered on the SMS account or not validated yet. "
        "An admin must fix OVH_SMS_SENDER (or leave it empty to use the account's default sender). "
        "Nothing was sent."
    )


def test_a_forbidden_sender_lookup_names_the_call(make_settings, fake_ovh):
    fake_ovh.fail_next(403, error_code="FORBIDDEN", message="not yours", path_contains="/senders/")

    error = failure(lambda: OvhAccount.from_settings(make_settings()).sender_status(SERVICE, "ACME"))

    assert (error.code, error.maybe_sent) == ("forbidden", False)
    assert error.user_message == (
        f"OVH refused the call `/sms/{SERVICE}/senders/ACME` for this account: not yours. Nothing was sent."
    )


def test_a_failed_read_only_query_says_nothing_was_sent(make_settings, fake_ovh):
    fake_ovh.fail_next(500, path_contains="/senders/")

    error = failure(lambda: OvhAccount.from_settings(make_settings()).sender_status(SERVICE, "ACME"))

    assert (error.code, error.maybe_sent) == ("unavailable", False)
    assert error.user_message == "OVH's API failed before the send. Nothing was sent: try again later."


@pytest.mark.parametrize(
    ("error_code", "message", "code", "says"),
    [
        ("INVALID_KEY", "Invalid application key", "invalid_application_key", "OVH_APPLICATION_KEY."),
        (
            "INVALID_CREDENTIAL",
            "This credential does not exist",
            "invalid_consumer_key",
            "OVH does not accept the consumer key in OVH_CONSUMER_KEY: it is unknown, was never validated, "
            "or was revoked or expired.",
        ),
        (
            "NOT_CREDENTIAL",
            "This credential does not exist",
            "invalid_consumer_key",
            "OVH does not accept the consumer key in OVH_CONSUMER_KEY: it is unknown, was never validated, "
            "or was revoked or expired.",
        ),
    ],
)
def test_a_refused_key_is_named(make_settings, fake_ovh, error_code, message, code, says):
    fake_ovh.fail_next(403, error_code=error_code, message=message, path_contains="/auth/currentCredential")

    error = failure(lambda: OvhAccount.from_settings(make_settings()).current_credential())

    assert error.code == code
    assert error.user_message.endswith(says)


def test_a_bad_signature_blames_the_secret_and_other_bad_parameters_do_not(make_settings, fake_ovh):
    account = OvhAccount.from_settings(make_settings())

    fake_ovh.fail_next(400, message="Invalid signature", path_contains="/auth/currentCredential")
    assert failure(account.current_credential).code == "invalid_signature"
    fake_ovh.fail_next(400, message="Invalid parameter", path_contains="/auth/currentCredential")
    assert failure(account.current_credential).code == "rejected"


def test_the_gateway_takes_the_stop_clause_setting(make_settings):
    assert OvhGateway.from_settings(make_settings()).no_stop_clause is True
    assert OvhGateway.from_settings(make_settings(OVH_NO_STOP_CLAUSE="false")).no_stop_clause is False


def test_credits_left_is_none_when_ovh_does_not_say_or_cannot_be_asked(make_settings, fake_ovh):
    gateway = OvhGateway.from_settings(make_settings())
    assert gateway.credits_left() == 100.0

    fake_ovh.credits_left = None
    assert gateway.credits_left() is None

    fake_ovh.fail_next(500, path_contains=f"/sms/{SERVICE}", method="GET")
    assert gateway.credits_left() is None


def test_a_refused_query_names_the_call_it_made(make_settings, fake_ovh):
    account = OvhAccount.from_settings(make_settings())

    fake_ovh.fail_next(403, error_code="NOT_GRANTED_CALL", path_contains="/auth/currentCredential")
    assert (
        "OVH refused the call `/auth/currentCredential`" in failure(account.current_credential).user_message
    )
    fake_ovh.fail_next(403, error_code="FORBIDDEN", message="no", path_contains=f"/sms/{SERVICE}")
    assert failure(lambda: account.account(SERVICE)).user_message.startswith(
        f"OVH refused the call `/sms/{SERVICE}` for this account"
    )


def test_an_account_says_its_status_and_credits(make_settings, fake_ovh):
    account = OvhAccount.from_settings(make_settings()).account(SERVICE)

    assert (account.name, account.status, account.credits_left) == (SERVICE, "enable", 100.0)


@pytest.mark.parametrize(
    ("sender", "kind"), [("+33612345678", "numeric"), ("ACME", "alpha"), ("X2000", "alpha")]
)
def test_the_estimate_tells_ovh_whether_the_sender_is_a_number(make_settings, fake_ovh, sender, kind):
    fake_ovh.rules.append(("POST", "/sms/estimate"))
    OvhAccount.from_settings(make_settings(OVH_SMS_SENDER=sender)).estimate("hi")

    [request] = [r for r in fake_ovh.requests if r.path == "/sms/estimate"]
    assert request.body["senderType"] == kind


def test_a_host_that_does_not_resolve_is_unreachable_and_nothing_was_sent(make_settings):
    settings = make_settings(OVH_ENDPOINT="http://smsbot-test.invalid/1.0")

    error = failure(OvhAccount.from_settings(settings).list_services)

    assert (error.code, error.maybe_sent) == ("unreachable", False)


def test_a_job_refused_for_credits_says_to_add_some(make_settings, fake_ovh):
    fake_ovh.fail_next(402, message="Not enough credits to send this message")
    gateway = OvhGateway.from_settings(make_settings())

    error = failure(lambda: gateway.post(message="hi", receivers=["+34600000001"], tag="smsbot-1"))

    assert (error.code, error.maybe_sent) == ("no_credits", False)
    assert error.user_message == (
        "The OVH SMS account has no credits left for this send. An admin must add credits in the "
        "OVHcloud Control Panel (Telecom → SMS). Nothing was sent."
    )
    assert fake_ovh.jobs == []


def post(gateway: OvhGateway, receivers: list[str], tag: str = "smsbot-1"):
    return gateway.post(message="hi", receivers=receivers, tag=tag)


def test_a_job_whose_answer_is_late_may_have_been_sent(make_settings, fake_ovh):
    fake_ovh.delay = 0.8  # OVH takes the job after the bot stopped waiting
    gateway = OvhGateway.from_settings(make_settings(OVH_READ_TIMEOUT="0.3", OVH_CONNECT_TIMEOUT="1"))

    error = failure(lambda: post(gateway, ["+34600000001"]))

    assert (error.code, error.maybe_sent) == ("timeout", True)
    assert error.user_message == (
        "OVH did not answer in time. The SMS may or may not have gone out: check the receivers' phones "
        "or the OVH history before sending it again."
    )


@pytest.mark.parametrize(("html", "shown"), [(False, "HTTP 500"), (True, "an unreadable answer")])
def test_a_job_failing_inside_ovh_may_have_been_sent(make_settings, fake_ovh, html, shown):
    fake_ovh.fail_next(500, html=html)

    error = failure(lambda: post(OvhGateway.from_settings(make_settings()), ["+34600000001"]))

    assert (error.code, error.maybe_sent) == ("unavailable", True)
    assert error.user_message == (
        f"OVH's API failed while taking the send ({shown}). The SMS may or may not have gone out: "
        "check the OVH history before sending it again."
    )


def test_an_error_the_bot_has_no_words_for_is_quoted(make_settings, fake_ovh):
    fake_ovh.fail_next(409, message="Conflicting job")

    error = failure(lambda: post(OvhGateway.from_settings(make_settings()), ["+34600000001"]))

    assert (error.code, error.user_message) == ("ovh_error", "OVH answered with an error: Conflicting job.")


def test_a_trace_adds_up_the_credits_of_every_queued_sms_of_the_send(make_settings, fake_ovh):
    fake_ovh.queue_jobs = True
    settings = make_settings()
    receivers = ["+34600000001", "+34600000002"]
    since = datetime.now(UTC)
    post(OvhGateway.from_settings(settings), receivers, tag="smsbot-7")

    trace = OvhAccount.from_settings(settings).trace("smsbot-7", receivers, "hi", since)

    assert (trace.sms_ids, sorted(trace.receivers), trace.credits) == ([], receivers, 2.0)
    assert len(trace.pending_job_ids) == 2 and trace.found and not trace.incomplete


def test_a_trace_is_complete_when_ovh_holds_no_more_jobs_than_it_reads(make_settings, fake_ovh):
    fake_ovh.queue_jobs = True
    fake_ovh.credits_left = 1000.0
    settings = make_settings()
    since = datetime.now(UTC)
    others = [f"+346000{n:05d}" for n in range(TRACE_DETAILS)]
    post(OvhGateway.from_settings(settings), others, tag="smsbot-8")
    account = OvhAccount.from_settings(settings)

    assert account.trace("smsbot-9", ["+34699999999"], "lost", since).incomplete is False
    post(OvhGateway.from_settings(settings), ["+34600099999"], tag="smsbot-10")
    assert account.trace("smsbot-9", ["+34699999999"], "lost", since).incomplete is True


def test_a_refused_call_names_its_path_and_service(make_settings, fake_ovh):
    fake_ovh.fail_next(403, error_code="NOT_GRANTED_CALL", path_contains="/sms", method="GET")
    refused = failure(OvhAccount.from_settings(make_settings()).list_services)
    assert refused.code == "not_granted"
    assert "OVH refused the call `/sms`: the bot's consumer key was not granted it" in refused.user_message

    gateway = OvhGateway.from_settings(make_settings(OVH_SMS_SERVICE="sms-nope-1"))
    unknown = failure(lambda: gateway.post(message="hola", receivers=["+34600000001"], tag="t1"))
    assert unknown.code == "unknown_service"
    assert "OVH has no SMS service `sms-nope-1` on this account" in unknown.user_message
    assert fake_ovh.jobs == []


def test_taking_back_a_job_with_a_key_not_granted_delete_names_the_call(make_settings, fake_ovh):
    gateway = OvhGateway(OvhClient.from_settings(make_settings()))  # the default rules: no DELETE

    error = failure(lambda: gateway.cancel_job(SERVICE, 42))

    assert (error.code, error.maybe_sent) == ("not_granted", False)
    assert f"OVH refused the call `/sms/{SERVICE}/jobs/42`" in error.user_message
    assert fake_ovh.deleted_jobs == []


def test_unreadable_replies_name_the_call_that_gave_them(make_settings, fake_ovh):
    deliveries = OvhDeliveries(OvhClient.from_settings(make_settings()))
    fake_ovh.answer_next({"ids": [1]}, path_contains="/incoming", method="GET", after_processing=False)
    fake_ovh.answer_next(["a reply"], path_contains="/incoming/5", method="GET", after_processing=False)
    since = datetime(2026, 12, 1, tzinfo=UTC)

    listed = failure(lambda: deliveries.incoming_ids(SERVICE, since))
    one = failure(lambda: deliveries.incoming(SERVICE, 5))

    assert (listed.code, listed.user_message) == (
        "unreadable",
        f"OVH's answer to GET /sms/{SERVICE}/incoming could not be read.",
    )
    assert one.user_message == f"OVH's answer to GET /sms/{SERVICE}/incoming/5 could not be read."


def test_replies_of_a_service_ovh_does_not_have_name_the_service(make_settings, fake_ovh):
    deliveries = OvhDeliveries(OvhClient.from_settings(make_settings()))

    error = failure(lambda: deliveries.incoming_ids("sms-zz99999-9", datetime(2026, 12, 1, tzinfo=UTC)))

    assert error.code == "unknown_service"
    assert "OVH has no SMS service `sms-zz99999-9` on this account" in error.user_message


def test_the_push_url_is_read_from_the_account_and_a_refusal_names_the_call(make_settings, fake_ovh):
    deliveries = OvhDeliveries(OvhClient.from_settings(make_settings()))
    assert deliveries.callback_url(SERVICE) is None  # none set
    fake_ovh.callback_url = "https://smsbot.example/ovh/callback"
    assert deliveries.callback_url(SERVICE) == "https://smsbot.example/ovh/callback"

    fake_ovh.answer_next(
        ["not an account"], path_contains=f"/sms/{SERVICE}", method="GET", after_processing=False
    )
    assert deliveries.callback_url(SERVICE) is None  # an answer OVH's schema does not promise: no URL
    fake_ovh.fail_next(
        403, error_code="NOT_GRANTED_CALL", message="no", path_contains=f"/sms/{SERVICE}", method="GET"
    )
    refused = failure(lambda: deliveries.callback_url(SERVICE))
    assert refused.code == "not_granted" and f"OVH refused the call `/sms/{SERVICE}`" in refused.user_message


def test_asking_whether_a_job_went_out_with_a_key_not_granted_names_the_call(make_settings, fake_ovh):
    gateway = OvhGateway(OvhClient.from_settings(make_settings()))
    fake_ovh.fail_next(403, error_code="NOT_GRANTED_CALL", message="no", path_contains="/outgoing/")

    error = failure(lambda: gateway.job_sent(SERVICE, 42))

    assert error.code == "not_granted"
    assert f"OVH refused the call `/sms/{SERVICE}/outgoing/42`" in error.user_message
    assert gateway.job_sent(SERVICE, 42) is False  # OVH has no such SMS: it did not go out


def test_replies_are_listed_from_a_moment_on(make_settings, fake_ovh):
    deliveries = OvhDeliveries(OvhClient.from_settings(make_settings()))
    fake_ovh.receive("+34600000001", "Vale", ago=3600)
    recent = fake_ovh.receive("+34600000002", "¿Quién es?", ago=60)

    assert deliveries.incoming_ids(SERVICE, datetime.now(UTC) - timedelta(minutes=10)) == [recent]


def test_a_failed_read_never_says_an_sms_may_have_gone_out(make_settings, fake_ovh):
    deliveries = OvhDeliveries(OvhClient.from_settings(make_settings()))
    fake_ovh.fail_next(500, path_contains="/outgoing/", method="GET")

    error = failure(lambda: deliveries.read_sms(SERVICE, 42))

    assert (error.code, error.maybe_sent) == ("unavailable", False)
    assert error.user_message == "OVH's API failed before the send. Nothing was sent: try again later."


def test_an_account_without_an_sms_service_is_told_in_the_readers_language(make_settings, fake_ovh):
    fake_ovh.services = []

    with pytest.raises(ConfigurationError) as raised:
        OvhClient.from_settings(make_settings()).service_name()

    assert raised.value.user_message == (
        "OVH_SMS_SERVICE is not set and the OVH account does not have exactly one SMS service (found: none). "
        "Set OVH_SMS_SERVICE to the one to use."
    )
    assert raised.value.user_message_in(for_locale("es-ES")) == (
        "OVH_SMS_SERVICE no está definido y la cuenta de OVH no tiene exactamente un servicio SMS (encontrados: "
        "ninguno). Pon en OVH_SMS_SERVICE el que hay que usar."
    )
