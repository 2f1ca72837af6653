"""The fake Slack's App Home and permalink methods answer as Slack does."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.fakes.slack_api import FakeSlack

HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}


@pytest.fixture
def client(fake_slack: FakeSlack) -> WebClient:
    return WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)


def test_views_publish_keeps_one_view_per_user_with_a_stable_id(client, fake_slack):
    first = client.views_publish(user_id="UALICE", view=HOME)["view"]
    second = client.views_publish(user_id="UALICE", view=HOME)["view"]
    assert first["id"] == second["id"] and first["hash"] != second["hash"]
    assert fake_slack.home_view("UALICE")["blocks"] == HOME["blocks"]
    assert fake_slack.wait_for_home("UALICE", 2)["type"] == "home"


@pytest.mark.parametrize(
    ("user_id", "view", "error"),
    [
        (
            "UALICE",
            {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []},
            "invalid_arguments",
        ),
        ("UALICE", {"type": "home", "blocks": [{"type": "section"}]}, "invalid_arguments"),
        ("UALICE", {"type": "home", "blocks": [HOME["blocks"][0]] * 101}, "invalid_arguments"),
        ("CNOTAUSER", HOME, "user_not_found"),
    ],
)
def test_views_publish_refuses_what_slack_refuses(client, user_id, view, error):
    with pytest.raises(SlackApiError) as refused:
        client.views_publish(user_id=user_id, view=view)
    assert refused.value.response["error"] == error


def test_permalinks_exist_only_for_messages_posted(client, fake_slack):
    ts = client.chat_postMessage(channel="COPS", text="hola")["ts"]
    link = client.chat_getPermalink(channel="COPS", message_ts=ts)["permalink"]
    assert link == f"https://test.slack.com/archives/COPS/p{ts.replace('.', '')}"
    with pytest.raises(SlackApiError) as refused:
        client.chat_getPermalink(channel="COPS", message_ts="1.000001")
    assert refused.value.response["error"] == "message_not_found"
    fake_slack.channel_not_found.add("CGONE")
    with pytest.raises(SlackApiError) as refused:
        client.chat_getPermalink(channel="CGONE", message_ts=ts)
    assert refused.value.response["error"] == "channel_not_found"


def test_files_upload_v2_goes_through_the_three_steps(client, fake_slack):
    dm = client.conversations_open(users="UADMIN")["channel"]["id"]
    answer = client.files_upload_v2(channel=dm, content="a,b\n1,2\n", filename="x.csv", title="X")
    [upload] = fake_slack.files.values()
    assert answer["files"][0]["id"] == upload["id"]
    assert (upload["channel"], upload["content"], upload["title"]) == ("DADMIN", b"a,b\n1,2\n", "X")
    assert [c.method for c in fake_slack.calls] == [
        "conversations.open",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]


def test_completing_an_upload_needs_the_whole_file_first(client, fake_slack):
    started = client.files_getUploadURLExternal(filename="x.csv", length=10)
    with pytest.raises(SlackApiError) as refused:
        client.files_completeUploadExternal(files=[{"id": started["file_id"], "title": "x"}])
    assert refused.value.response["error"] == "file_not_found"
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(started["upload_url"], data=b"short", method="POST"))  # noqa: S310
    with pytest.raises(SlackApiError) as refused:
        client.files_completeUploadExternal(files=[{"id": started["file_id"], "title": "x"}])
    assert refused.value.response["error"] == "file_upload_size_mismatch"
    with pytest.raises(SlackApiError) as refused:
        client.files_completeUploadExternal(files=[{"id": "FNOPE", "title": "x"}])
    assert refused.value.response["error"] == "file_not_found"


@pytest.mark.parametrize(("scope", "call"), [("files:write", "upload"), ("im:write", "open")])
def test_the_file_methods_need_their_scopes(client, fake_slack, scope, call):
    fake_slack.scopes.remove(scope)
    with pytest.raises(SlackApiError) as refused:
        if call == "upload":
            client.files_getUploadURLExternal(filename="x.csv", length=3)
        else:
            client.conversations_open(users="UADMIN")
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == scope


def step_client(fake_slack: FakeSlack, token: str) -> WebClient:
    return WebClient(token=token, base_url=fake_slack.api_url)


def test_a_step_is_completed_once_with_its_own_token_and_its_declared_outputs(fake_slack):
    execution_id, token = fake_slack.new_function_execution({"job_ids": "array", "credits_used": "number"})
    other_id, other_token = fake_slack.new_function_execution({"job_ids": "array", "credits_used": "number"})
    client = step_client(fake_slack, token)

    for bad, problem in [
        ({"job_ids": [1]}, "missing required output parameter [json-pointer:/outputs/credits_used]"),
        ({"job_ids": "1", "credits_used": 1}, "must be of type array [json-pointer:/outputs/job_ids]"),
        (
            {"job_ids": [1], "credits_used": 1, "extra": 1},
            "unknown output parameter [json-pointer:/outputs/extra]",
        ),
    ]:
        with pytest.raises(SlackApiError) as refused:
            client.functions_completeSuccess(function_execution_id=execution_id, outputs=bad)
        assert refused.value.response["error"] == "parameter_validation_failed"
        assert problem in refused.value.response["response_metadata"]["messages"][0]
    with pytest.raises(SlackApiError) as refused:
        step_client(fake_slack, other_token).functions_completeSuccess(
            function_execution_id=execution_id, outputs={"job_ids": [1], "credits_used": 1}
        )
    assert refused.value.response["error"] == "function_execution_not_found"
    with pytest.raises(SlackApiError) as refused:
        WebClient(token="xoxb-not-this-apps", base_url=fake_slack.api_url).functions_completeError(
            function_execution_id=execution_id, error="x"
        )
    assert refused.value.response["error"] == "invalid_auth"

    client.functions_completeSuccess(
        function_execution_id=execution_id, outputs={"job_ids": [1], "credits_used": 1.5}
    )
    assert fake_slack.wait_for_function(execution_id)["outputs"] == {"job_ids": [1], "credits_used": 1.5}
    with pytest.raises(SlackApiError) as refused:
        client.functions_completeError(function_execution_id=execution_id, error="too late")
    assert refused.value.response["error"] == "function_execution_not_found"
    assert fake_slack.function_executions[other_id]["state"] == "running"


def test_the_apps_bot_token_completes_a_step_once_its_own_token_ran_out(fake_slack):
    execution_id, token = fake_slack.new_function_execution({"job_ids": "array", "credits_used": "number"})
    fake_slack.expire_function_token(execution_id)
    with pytest.raises(SlackApiError) as refused:
        step_client(fake_slack, token).functions_completeError(function_execution_id=execution_id, error="x")
    assert refused.value.response["error"] == "token_expired"

    bot = step_client(fake_slack, fake_slack.bot_token)
    bot.functions_completeSuccess(
        function_execution_id=execution_id, outputs={"job_ids": [], "credits_used": 0}
    )
    assert fake_slack.wait_for_function(execution_id)["state"] == "completed"
    for complete in (bot.functions_completeSuccess, bot.functions_completeError):
        with pytest.raises(SlackApiError) as refused:
            complete(
                function_execution_id=execution_id, outputs={"job_ids": [], "credits_used": 0}, error="x"
            )
        assert refused.value.response["error"] == "function_execution_not_found"
    with pytest.raises(SlackApiError) as refused:
        bot.functions_completeSuccess(function_execution_id="Fx0000000999", outputs={})
    assert refused.value.response["error"] == "function_execution_not_found"


def test_a_step_fails_with_a_message(fake_slack):
    execution_id, token = fake_slack.new_function_execution({})
    client = step_client(fake_slack, token)
    with pytest.raises(SlackApiError):
        client.functions_completeError(function_execution_id=execution_id, error=" ")
    client.functions_completeError(function_execution_id=execution_id, error="Not sent: no credits")
    assert fake_slack.wait_for_function(execution_id)["error"] == "Not sent: no credits"
