"""The fakes behave like the services, as the real clients see them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import ovh
import pytest
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler, builtin_handlers

from tests.fakes.ovh_api import STOP_CLAUSE, Delivery, FakeOvh, answer_problems
from tests.fakes.slack_api import FakeSlack, new_trigger_id, response_error

SERVICE = "sms-tt12345-1"


@pytest.fixture
def fake_ovh() -> Iterator[FakeOvh]:
    with FakeOvh(senders={"ACME": "enable", "OLD": "disable"}) as fake:
        yield fake


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def ovh_client(fake: FakeOvh, **credentials: Any) -> ovh.Client:
    settings = {
        "application_key": fake.application_key,
        "application_secret": fake.application_secret,
        "consumer_key": fake.consumer_key,
    }
    client = ovh.Client(endpoint="ovh-eu", timeout=(2, 5), **(settings | credentials))
    client._endpoint = fake.endpoint
    return client


def slack_client(fake: FakeSlack, **options: Any) -> WebClient:
    return WebClient(base_url=fake.api_url, token=fake.bot_token, timeout=5, **options)


# --- OVH ------------------------------------------------------------------------------------------


def test_a_signed_request_is_answered(fake_ovh: FakeOvh) -> None:
    assert ovh_client(fake_ovh).get("/sms") == [SERVICE]
    assert fake_ovh.requests == [("GET", "/sms", {}, None)]
    assert fake_ovh.signature_failures == 0


def test_the_signature_covers_the_query_string_and_follows_the_server_clock(fake_ovh: FakeOvh) -> None:
    fake_ovh.clock_skew = -3600
    assert ovh_client(fake_ovh).get(f"/sms/{SERVICE}/outgoing", tag="a b", receiver="+33612345678") == []
    assert fake_ovh.requests[-1].query == {"tag": "a b", "receiver": "+33612345678"}


def test_a_wrong_secret_is_an_invalid_signature(fake_ovh: FakeOvh) -> None:
    with pytest.raises(ovh.exceptions.BadParametersError, match="Invalid signature"):
        ovh_client(fake_ovh, application_secret="guessed").get("/sms")
    assert fake_ovh.signature_failures == 1
    assert fake_ovh.requests == []


def test_a_stale_timestamp_is_an_invalid_signature(fake_ovh: FakeOvh) -> None:
    client = ovh_client(fake_ovh)
    # Well past the 300 s window: at 301, a second passing between the client's clock and the fake's (a
    # loaded machine) brought it back inside, and the test failed under load.
    client._time_delta = 600
    with pytest.raises(ovh.exceptions.BadParametersError):
        client.get("/sms")


def test_unknown_keys_are_refused(fake_ovh: FakeOvh) -> None:
    with pytest.raises(ovh.exceptions.InvalidCredential):
        ovh_client(fake_ovh, consumer_key="revoked").get("/sms")
    with pytest.raises(ovh.exceptions.InvalidKey):
        ovh_client(fake_ovh, application_key="other-app").get("/sms")


def test_a_job_answers_invalid_receivers_without_failing(fake_ovh: FakeOvh) -> None:
    fake_ovh.invalid_receivers = {"0034600000000"}
    receivers = ["+33612345678", "0612345678", "+34600000000"]
    answer = ovh_client(fake_ovh).post(
        f"/sms/{SERVICE}/jobs", message="hello", receivers=receivers, sender="ACME", tag="t1"
    )
    assert answer["validReceivers"] == ["+33612345678"]
    assert answer["invalidReceivers"] == ["0612345678", "+34600000000"]
    assert len(answer["ids"]) == 1
    assert answer["totalCreditsRemoved"] == 1
    assert answer["creditsLeft"] == fake_ovh.credits_left == 99
    [job] = fake_ovh.wait_for_jobs(1)
    assert (job.service, job.ids, job.tag, job.body["message"]) == (SERVICE, answer["ids"], "t1", "hello")
    client = ovh_client(fake_ovh)
    [sms_id] = client.get(f"/sms/{SERVICE}/outgoing", tag="t1")
    assert client.get(f"/sms/{SERVICE}/outgoing/{sms_id}")["receiver"] == "+33612345678"


@pytest.mark.parametrize(
    ("message", "credits"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("é" * 160, 1),
        ("ж" * 70, 1),
        ("ж" * 71, 2),
    ],
    ids=["gsm-160", "gsm-161", "extension-80", "extension-81", "accented-gsm", "unicode-70", "unicode-71"],
)
def test_credits_follow_the_sms_parts(fake_ovh: FakeOvh, message: str, credits: int) -> None:
    answer = ovh_client(fake_ovh).post(
        f"/sms/{SERVICE}/jobs", message=message, receivers=["+33612345678"], noStopClause=True
    )
    assert answer["totalCreditsRemoved"] == credits


def test_the_stop_clause_is_sent_and_paid_for_unless_the_message_is_not_advertising(
    fake_ovh: FakeOvh,
) -> None:
    client = ovh_client(fake_ovh)
    path = f"/sms/{SERVICE}/jobs"
    room = 160 - len(STOP_CLAUSE)
    assert client.post(path, message="a" * room, receivers=["+33612345678"])["totalCreditsRemoved"] == 1
    assert client.post(path, message="a" * (room + 1), receivers=["+33612345678"])["totalCreditsRemoved"] == 2
    assert (
        client.post(path, message="a" * 160, receivers=["+33612345678"], noStopClause=False)[
            "totalCreditsRemoved"
        ]
        == 2
    )
    fake_ovh.rules.append(("POST", "/sms/estimate"))
    estimate = client.post("/sms/estimate", message="a" * (room + 1), noStopClause=False, senderType="alpha")
    assert (estimate["parts"], estimate["characters"]) == (2, 161)


@pytest.mark.parametrize(
    ("field", "value", "refusal"),
    [
        ("charset", "ISO-8859-1", "[charset] Given data (ISO-8859-1) does not belong to the sms.CharsetEnum"),
        ("coding", "16bit", "does not belong to the sms.CodingEnum"),
        ("priority", "urgent", "does not belong to the sms.PriorityEnum"),
        ("class", "popup", "does not belong to the sms.ClassEnum"),
        ("noStopClause", "yes", "[noStopClause] Given data ('yes') is not a boolean"),
        ("validityPeriod", "2880", "[validityPeriod] Given data ('2880') is not a long"),
        ("validityPeriod", True, "is not a long"),
        ("receivers", "+33612345678", "[receivers] Given data ('+33612345678') is not an array"),
        ("receivers", [33612345678], "[receivers] Given data (33612345678) is not a string"),
        ("tag", 7, "[tag] Given data (7) is not a string"),
        ("senderForResponse", 1, "is not a boolean"),
        ("charSet", "UTF-8", "Invalid parameter(s): charSet"),
        ("receiver", "+33612345678", "Invalid parameter(s): receiver"),
    ],
)
def test_a_job_is_checked_against_ovhs_schema(
    fake_ovh: FakeOvh, field: str, value: Any, refusal: str
) -> None:
    body = {"message": "hi", "receivers": ["+33612345678"], "charset": "UTF-8", "priority": "high"}
    with pytest.raises(ovh.exceptions.BadParametersError) as raised:
        ovh_client(fake_ovh).post(f"/sms/{SERVICE}/jobs", **(body | {field: value}))
    assert refusal in str(raised.value)
    assert raised.value.response.json()["class"] == "Client::BadRequest"
    assert fake_ovh.jobs == [] and fake_ovh.credits_left == 100


def test_what_ovhs_schema_allows_is_accepted(fake_ovh: FakeOvh) -> None:
    body = {
        "message": "hi",
        "receivers": ["+33612345678"],
        "charset": "UTF-8",
        "coding": "7bit",
        "class": "phoneDisplay",
        "priority": "veryLow",
        "noStopClause": True,
        "senderForResponse": False,
        "validityPeriod": 2880,
        "differedPeriod": 0,
        "tag": "t",
        "sender": "ACME",
    }
    assert ovh_client(fake_ovh).post(f"/sms/{SERVICE}/jobs", **body)["validReceivers"] == ["+33612345678"]


@pytest.mark.parametrize(
    ("method", "path", "answer", "problems"),
    [
        ("GET", f"/sms/{SERVICE}/jobs/7", {"id": 7, "tag": "t"}, ["answer.tag: not a field of sms.Job"]),
        ("GET", f"/sms/{SERVICE}/jobs/7", {"id": "7"}, ["answer.id: Given data ('7') is not a long"]),
        (
            "GET",
            f"/sms/{SERVICE}/jobs/7",
            {"id": 7, "creationDatetime": "yesterday"},
            ["answer.creationDatetime: 'yesterday' is not a datetime"],
        ),
        ("GET", f"/sms/{SERVICE}/jobs", [1, "2"], ["answer[1]: Given data ('2') is not a long"]),
        (
            "GET",
            "/sms/ptts",
            {"duration": "forever"},
            [
                "answer.duration: Given data (forever) does not belong to the sms.PttDurationTypeEnum enumeration (indeterminated, permanent, temporary)"
            ],
        ),
        (
            "GET",
            f"/sms/{SERVICE}",
            {"smsResponse": {"responseType": "sms"}},
            [
                "answer.smsResponse.responseType: Given data (sms) does not belong to the sms.ResponseTypeEnum enumeration (cgi, none, text)"
            ],
        ),
        ("GET", f"/sms/{SERVICE}", None, ["answer: null where OVH answers a sms.AccountWithIAM"]),
        ("DELETE", f"/sms/{SERVICE}/jobs/7", {}, ["answer: {} where OVH answers nothing"]),
        ("PUT", f"/sms/{SERVICE}", None, []),
        # OVH gives null for what it does not know, and datetimes with or without a zone
        (
            "GET",
            f"/sms/{SERVICE}/outgoing/7",
            {"id": 7, "ptt": None, "deliveredAt": "2026-12-01T10:00:00"},
            [],
        ),
        ("GET", "/me", {"anything": 1}, []),  # not an operation of the SMS schema
    ],
)
def test_an_answer_is_checked_against_ovhs_models(
    method: str, path: str, answer: Any, problems: list[str]
) -> None:
    assert answer_problems(method, path, answer) == problems


def test_the_fake_never_gives_an_answer_ovh_would_not(fake_ovh: FakeOvh) -> None:
    fake_ovh.senders = {"ACME": "enable", "ODD": "active"}  # OVH has no status "active"
    client = ovh_client(fake_ovh)

    assert client.get(f"/sms/{SERVICE}/senders/ACME")["status"] == "enable"
    with pytest.raises(
        ovh.exceptions.APIError, match=r"the fake's answer breaks OVH's schema: answer\.status"
    ):
        client.get(f"/sms/{SERVICE}/senders/ODD")


def test_required_parameters_are_required(fake_ovh: FakeOvh) -> None:
    client = ovh_client(fake_ovh)
    with pytest.raises(ovh.exceptions.BadParametersError, match=r"Missing parameter\(s\): message"):
        client.post(f"/sms/{SERVICE}/jobs", receivers=["+33612345678"])
    fake_ovh.rules.append(("POST", "/sms/estimate"))
    with pytest.raises(ovh.exceptions.BadParametersError, match="noStopClause, senderType"):
        client.post("/sms/estimate", message="hi")
    with pytest.raises(ovh.exceptions.BadParametersError, match="TypeSenderEnum"):
        client.post("/sms/estimate", message="hi", noStopClause=True, senderType="name")


def test_tests_choose_delivery_states_and_times(fake_ovh: FakeOvh) -> None:
    fake_ovh.deliveries["+34600000002"] = Delivery(receipt=2, ptt=24, sent_after=1.5, delivered_after=None)
    fake_ovh.utc_offset = timedelta(hours=2)
    client = ovh_client(fake_ovh)
    before = datetime.now(UTC).replace(microsecond=0)
    answer = client.post(
        f"/sms/{SERVICE}/jobs", message="hi", receivers=["+34600000001", "+34600000002"], tag="t"
    )
    delivered, absent = (client.get(f"/sms/{SERVICE}/outgoing/{sms_id}") for sms_id in answer["ids"])
    assert (delivered["deliveryReceipt"], delivered["ptt"]) == (1, 4)
    assert delivered["deliveredAt"] == delivered["creationDatetime"]
    assert (absent["deliveryReceipt"], absent["ptt"], absent["deliveredAt"]) == (2, 24, None)
    created = datetime.fromisoformat(absent["creationDatetime"])
    assert created.utcoffset() == timedelta(hours=2) and created >= before
    assert datetime.fromisoformat(absent["sentAt"]) - created == timedelta(seconds=1.5)

    fake_ovh.set_delivery(answer["ids"][1], Delivery(receipt=1, ptt=4, sent_after=1.5, delivered_after=60))
    fake_ovh.zoned_datetimes = False
    later = client.get(f"/sms/{SERVICE}/outgoing/{answer['ids'][1]}")
    assert later["deliveryReceipt"] == 1
    naive = datetime.fromisoformat(later["creationDatetime"])
    assert naive.tzinfo is None and naive == created.replace(tzinfo=None)
    assert datetime.fromisoformat(later["deliveredAt"]) - naive == timedelta(seconds=60)


def test_held_jobs_wait_for_the_test(fake_ovh: FakeOvh) -> None:
    fake_ovh.hold_jobs()
    with ThreadPoolExecutor(max_workers=2) as pool:
        posts = [
            pool.submit(ovh_client(fake_ovh).post, f"/sms/{SERVICE}/jobs", message="hi", receivers=[number])
            for number in ("+34600000001", "+34600000002")
        ]
        assert fake_ovh.wait_for_held(2) == 2
        assert fake_ovh.jobs == [] and not any(post.done() for post in posts)
        fake_ovh.release_jobs()
        assert sorted(post.result(timeout=5)["validReceivers"][0] for post in posts) == [
            "+34600000001",
            "+34600000002",
        ]
    assert fake_ovh.held == 0 and len(fake_ovh.jobs) == 2


def test_jobs_are_refused_like_ovh_refuses_them(fake_ovh: FakeOvh) -> None:
    client = ovh_client(fake_ovh)
    path = f"/sms/{SERVICE}/jobs"
    with pytest.raises(ovh.exceptions.BadParametersError, match="Sms sender NOPE does not exists"):
        client.post(path, message="hi", receivers=["+33612345678"], sender="NOPE")
    with pytest.raises(ovh.exceptions.BadParametersError, match="is not enabled"):
        client.post(path, message="hi", receivers=["+33612345678"], sender="OLD")
    fake_ovh.credits_left = 0.5
    with pytest.raises(ovh.exceptions.BadParametersError, match="Not enough credits"):
        client.post(path, message="hi", receivers=["+33612345678"])
    with pytest.raises(ovh.exceptions.ResourceNotFoundError, match="serviceName = sms-other-1"):
        client.get("/sms/sms-other-1")
    with pytest.raises(ovh.exceptions.NotGrantedCall):
        client.delete(f"{path}/1")
    assert fake_ovh.jobs == []


def test_injected_failures(fake_ovh: FakeOvh) -> None:
    client = ovh_client(fake_ovh)
    path = f"/sms/{SERVICE}/jobs"
    fake_ovh.fail_next(403, error_code="NOT_GRANTED_CALL", message="This call has not been granted")
    with pytest.raises(ovh.exceptions.NotGrantedCall):
        client.post(path, message="hi", receivers=["+33612345678"])
    fake_ovh.fail_next(502, html=True, after_processing=True)
    with pytest.raises(ovh.exceptions.InvalidResponse):
        client.post(path, message="hi", receivers=["+33612345678"])
    fake_ovh.fail_next(429, message="Too many requests", path_contains="/sms")
    with pytest.raises(ovh.exceptions.APIError, match="Too many requests") as raised:
        client.get("/sms")
    assert raised.value.query_id.startswith("FAKE.")
    assert len(fake_ovh.jobs) == 1  # only the one OVH "sent" before losing the answer
    assert fake_ovh.credits_left == 99


def test_an_answer_in_a_shape_ovh_does_not_promise_is_given_after_the_job(fake_ovh: FakeOvh) -> None:
    client = ovh_client(fake_ovh)
    path = f"/sms/{SERVICE}/jobs"
    fake_ovh.answer_next({"tag": "t1"})
    assert client.post(path, message="hi", receivers=["+33612345678"], tag="t1") == {"tag": "t1"}
    fake_ovh.answer_next(["not", "an", "object"], after_processing=False)
    assert client.post(path, message="hi", receivers=["+33612345678"]) == ["not", "an", "object"]
    fake_ovh.answer_next(b"{garbage")
    with pytest.raises(ovh.exceptions.InvalidResponse):
        client.post(path, message="hi", receivers=["+33612345678"])
    assert client.get("/sms") == [SERVICE]  # a GET is not a job: answered as usual
    assert [job.tag for job in fake_ovh.jobs] == ["t1", ""]  # the second was answered, not carried out
    assert "validReceivers" in client.post(path, message="hi", receivers=["+33612345678"])


# --- Slack ----------------------------------------------------------------------------------------

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}
MODAL = {
    "type": "modal",
    "callback_id": "compose",
    "title": {"type": "plain_text", "text": "Send an SMS"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "message",
            "label": {"type": "plain_text", "text": "Message"},
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "max_length": 3000,
            },
        }
    ],
}


def test_post_message_round_trip(fake_slack: FakeSlack) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    client = slack_client(fake_slack)
    first = client.chat_postMessage(channel="C1", text="hi", blocks=blocks)
    reply = client.chat_postMessage(channel="C1", text="reply", thread_ts=first["ts"])
    assert reply["ts"] > first["ts"]
    assert reply["message"]["thread_ts"] == first["ts"]
    assert fake_slack.wait_for("chat.postMessage", 2)[0]["blocks"] == blocks
    assert client.chat_postMessage(channel="U123", text="dm")["channel"] == "D123"


def test_form_encoded_json_fields_are_decoded(fake_slack: FakeSlack) -> None:
    blocks = [{"type": "divider"}]
    slack_client(fake_slack).api_call(
        "chat.postMessage", params={"channel": "C1", "blocks": json.dumps(blocks)}
    )
    assert fake_slack.calls_to("chat.postMessage") == [{"channel": "C1", "blocks": blocks}]


def test_slack_errors(fake_slack: FakeSlack) -> None:
    fake_slack.not_in_channel.add("CPRIVATE")
    fake_slack.expired_triggers.add("trigger-1")
    client = slack_client(fake_slack)
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="CPRIVATE", text="hi")
    assert raised.value.response["error"] == "not_in_channel"
    with pytest.raises(SlackApiError, match="expired_trigger_id"):
        client.views_open(trigger_id="trigger-1", view=MODAL)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(base_url=fake_slack.api_url, token="xoxb-wrong").auth_test()
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        client.usergroups_users_list(usergroup="S404")
    assert [call.failed for call in fake_slack.calls] == [True] * 4


def test_lookups_and_modals(fake_slack: FakeSlack) -> None:
    fake_slack.usergroup_members["S1"] = ["U1", "U2"]
    fake_slack.users["U1"] = {"is_admin": True}
    client = slack_client(fake_slack)
    assert client.auth_test()["user_id"] == "UBOT"
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    assert client.users_info(user="U1")["user"]["is_admin"] is True
    assert client.users_info(user="U2")["user"]["name"] == "u2"
    view = client.views_open(trigger_id=new_trigger_id(), view=MODAL | {"callback_id": "send"})["view"]
    assert (view["callback_id"], view["id"][0]) == ("send", "V")
    assert fake_slack.calls_to("views.open")[0]["view"]["callback_id"] == "send"


def test_a_rate_limited_call_is_retried(fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK sleeps Retry-After plus up to one second of jitter; keep the test fast.
    monkeypatch.setattr(builtin_handlers.random, "random", lambda: 0.0)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    client = slack_client(fake_slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert [(call.status, call.failed) for call in fake_slack.calls] == [(429, True), (200, False)]


def test_an_outage_answers_503(fake_slack: FakeSlack) -> None:
    fake_slack.set_down(True)
    with pytest.raises(SlackApiError) as raised:
        slack_client(fake_slack).chat_postMessage(channel="C1", text="hi")
    assert raised.value.response.status_code == 503
    fake_slack.set_down(False)
    assert slack_client(fake_slack).chat_postMessage(channel="C1", text="hi")["ok"]


def test_respond_posts_to_the_response_url(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    answer = Respond(response_url=url)(text="sent", response_type="ephemeral")
    assert (answer.status_code, answer.body) == (200, "ok")
    assert fake_slack.wait_for_response(url) == [{"text": "sent", "response_type": "ephemeral"}]


def test_wait_for_names_what_was_called(fake_slack: FakeSlack) -> None:
    slack_client(fake_slack).auth_test()
    with pytest.raises(AssertionError, match=r"calls made: \['auth.test'\]"):
        fake_slack.wait_for("chat.postMessage", timeout=0.05)


def test_a_burst_of_concurrent_connections_is_served(fake_slack: FakeSlack) -> None:
    client = slack_client(fake_slack)
    with ThreadPoolExecutor(max_workers=60) as pool:
        answers = list(pool.map(lambda n: client.chat_postMessage(channel="C1", text=str(n)), range(60)))
    assert len({answer["ts"] for answer in answers}) == 60


def slack_error(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as raised:
        call()
    return dict(raised.value.response.data)


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"type": "sectoin", "text": {"type": "mrkdwn", "text": "hi"}}, "unsupported type: sectoin"),
        ({"text": {"type": "mrkdwn", "text": "hi"}}, "missing required field: type"),
        (
            {"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}},
            "text attribute cannot exceed 3000",
        ),
        ({"type": "section", "text": {"type": "mrkdown", "text": "hi"}}, "/text/type (the value 'mrkdown'"),
        ({**SECTION, "txt": {"type": "mrkdwn", "text": "hi"}}, "invalid additional property: /txt"),
        (
            {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
            "text attribute cannot exceed 150",
        ),
        ({"type": "context", "elements": [SECTION["text"]] * 11}, "elements attribute cannot exceed 10"),
        ({"type": "section", "block_id": "b" * 256, "text": SECTION["text"]}, "block_id cannot exceed 255"),
        (
            {
                "type": "actions",
                "elements": [{"text": {"type": "plain_text", "text": "Go"}, "action_id": "a"}],
            },
            "/elements/0 (missing required field: type)",
        ),
        (
            {"type": "actions", "elements": [{"type": "buton", "text": SECTION["text"], "action_id": "a"}]},
            "/elements/0 (unsupported type: buton)",
        ),
    ],
    ids=[
        "unknown-type",
        "no-type",
        "long-section",
        "unknown-text-type",
        "unknown-field",
        "long-header",
        "context-elements",
        "long-block-id",
        "element-without-type",
        "element-of-unknown-type",
    ],
)
def test_messages_with_blocks_slack_refuses_are_refused(
    fake_slack: FakeSlack, block: dict, problem: str
) -> None:
    client = slack_client(fake_slack)
    for post in (
        lambda: client.chat_postMessage(channel="C1", text="hi", blocks=[SECTION, block]),
        lambda: client.chat_postEphemeral(channel="C1", user="U1", text="hi", blocks=[block]),
    ):
        answer = slack_error(post)
        assert answer["error"] == "invalid_blocks"
        assert any(problem in error for error in answer["errors"]), answer
    assert [call.error for call in fake_slack.calls] == ["invalid_blocks"] * 2


def test_a_message_takes_50_blocks_and_40000_characters(fake_slack: FakeSlack) -> None:
    client = slack_client(fake_slack)
    assert client.chat_postMessage(channel="C1", text="a" * 40_000, blocks=[SECTION] * 50)["ok"]
    assert slack_error(lambda: client.chat_postMessage(channel="C1", text="a", blocks=[SECTION] * 51))[
        "errors"
    ][0].startswith("must contain at most 50 items")
    assert (
        slack_error(lambda: client.chat_postMessage(channel="C1", text="a" * 40_001))["error"]
        == "msg_too_long"
    )


def test_chat_update_knows_only_the_messages_posted(fake_slack: FakeSlack) -> None:
    client = slack_client(fake_slack)
    ts = client.chat_postMessage(channel="C1", text="hi")["ts"]
    assert client.chat_update(channel="C1", ts=ts, text="edited", blocks=[SECTION])["ok"]
    assert (
        slack_error(lambda: client.chat_update(channel="C1", ts="1700000000.999999", text="x"))["error"]
        == "message_not_found"
    )
    assert (
        slack_error(lambda: client.chat_update(channel="C2", ts=ts, text="x"))["error"] == "message_not_found"
    )
    assert (
        slack_error(lambda: client.chat_update(channel="C1", ts=ts, text="x", blocks=[{"type": "sectoin"}]))[
            "error"
        ]
        == "invalid_blocks"
    )


def _checkboxes(description: str) -> dict:
    """An input of one checkbox whose option has ``description`` (Slack takes up to 75 characters)."""
    option = {
        "text": {"type": "plain_text", "text": "Allow"},
        "description": {"type": "plain_text", "text": description},
        "value": "yes",
    }
    return {
        "type": "input",
        "block_id": "b",
        "label": {"type": "plain_text", "text": "Label"},
        "element": {"type": "checkboxes", "action_id": "a", "options": [option]},
    }


def test_an_option_description_of_75_characters_is_taken(fake_slack: FakeSlack) -> None:
    client = slack_client(fake_slack)
    view = MODAL | {"blocks": [_checkboxes(description="d" * 75)]}
    assert client.views_open(trigger_id=new_trigger_id(), view=view)["ok"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"title": {"type": "plain_text", "text": "t" * 25}}, "title must be between 1 and 24 characters"),
        ({"submit": {"type": "plain_text", "text": "s" * 25}}, "submit cannot exceed 24 characters"),
        ({"close": {"type": "plain_text", "text": "c" * 25}}, "close cannot exceed 24 characters"),
        ({"private_metadata": "m" * 3001}, "private_metadata cannot exceed 3000 characters"),
        ({"type": "dialog"}, 'type must be either "modal", "home" or "workflow_step"'),
        ({"blocks": [SECTION] * 101}, "views must contain between 1 and 100 blocks"),
        ({"blocks": [{"type": "sectoin"}]}, "unsupported type: sectoin [json-pointer:/view/blocks/0/type]"),
        ({"callback": "compose"}, "invalid additional property: /callback"),
        (
            {"blocks": [_checkboxes(description="d" * 76)]},
            "must be less than 76 characters [json-pointer:/view/blocks/0/element/options/0/description/text]",
        ),
    ],
    ids=[
        "title",
        "submit",
        "close",
        "metadata",
        "type",
        "101-blocks",
        "block-type",
        "unknown-field",
        "option-description",
    ],
)
def test_views_slack_refuses_are_refused(fake_slack: FakeSlack, change: dict, problem: str) -> None:
    client = slack_client(fake_slack)
    answer = slack_error(lambda: client.views_open(trigger_id=new_trigger_id(), view=MODAL | change))
    assert answer["error"] == "invalid_arguments"
    assert any(problem in message for message in answer["response_metadata"]["messages"]), answer
    view = client.views_open(trigger_id=new_trigger_id(), view=MODAL)["view"]
    answer = slack_error(
        lambda: client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL | change)
    )
    assert answer["error"] == "invalid_arguments"


def test_a_trigger_id_opens_one_view_within_3_seconds(fake_slack: FakeSlack) -> None:
    client = slack_client(fake_slack)
    trigger = new_trigger_id()
    assert client.views_open(trigger_id=trigger, view=MODAL)["ok"]
    assert (
        slack_error(lambda: client.views_open(trigger_id=trigger, view=MODAL))["error"]
        == "exchanged_trigger_id"
    )
    stale = new_trigger_id(issued_at=time.time() - 3.1)
    assert (
        slack_error(lambda: client.views_open(trigger_id=stale, view=MODAL))["error"] == "expired_trigger_id"
    )
    assert (
        slack_error(lambda: client.views_open(trigger_id="made-up", view=MODAL))["error"]
        == "invalid_trigger_id"
    )
    assert client.views_open(trigger_id=new_trigger_id(issued_at=time.time() - 2.5), view=MODAL)["ok"]


def test_views_update_checks_the_view_id_and_hash(fake_slack: FakeSlack) -> None:
    client = slack_client(fake_slack)
    opened = client.views_open(trigger_id=new_trigger_id(), view=MODAL)["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    stale = lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)  # noqa: E731
    assert slack_error(stale)["error"] == "hash_conflict"
    assert slack_error(lambda: client.views_update(view_id="V404", view=MODAL))["error"] == "not_found"
    assert client.views_update(view_id=opened["id"], view=MODAL)["ok"]  # without a hash, the last one wins


def test_a_response_url_takes_five_posts_of_valid_messages(fake_slack: FakeSlack) -> None:
    url = fake_slack.new_response_url()
    respond = Respond(response_url=url)
    refused = respond(text="hi", blocks=[{"type": "sectoin"}])
    assert (refused.status_code, refused.body) == (400, "invalid_blocks")
    answers = [respond(text=f"post {n}").status_code for n in range(6)]
    assert answers == [200] * 5 + [404]
    assert len(fake_slack.responses(url)) == 5


def test_what_an_app_answers_in_an_ack_is_checked_as_slack_would() -> None:
    assert response_error({"text": "hi", "blocks": [SECTION], "response_type": "ephemeral"}) is None
    assert response_error({"text": "hi", "blocks": [{"type": "sectoin"}]})["error"] == "invalid_blocks"
    assert response_error({"response_action": "errors", "errors": {"message": "Too long"}}) is None
    assert response_error({"response_action": "errors", "errors": {}})["error"] == "invalid_arguments"
    long_title = MODAL | {"title": {"type": "plain_text", "text": "t" * 25}}
    assert response_error({"response_action": "update", "view": long_title})["error"] == "invalid_arguments"
    assert response_error({"response_action": "push", "view": MODAL}) is None
    assert response_error({"response_action": "close"})["error"] == "invalid_arguments"
