"""The fake Slack answers about people as Slack does: profiles with phones, unknown users, scopes."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


@pytest.fixture
def client(fake_slack) -> WebClient:
    return WebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)


def test_users_info_answers_a_member_with_their_profile_phone(fake_slack, client):
    fake_slack.users["UBOB"] = {"name": "bob", "profile": {"phone": "600 000 002", "display_name": "Bob"}}

    user = client.users_info(user="UBOB")["user"]

    assert user["id"] == "UBOB" and user["deleted"] is False and user["is_bot"] is False
    assert user["profile"] == {"real_name": "Ubob", "display_name": "Bob", "phone": "600 000 002"}


def test_users_info_knows_group_members_and_the_bot_and_nobody_else(fake_slack, client):
    fake_slack.usergroup_members = {"SONCALL": ["UCAROL"]}

    assert client.users_info(user="UCAROL")["user"]["profile"]["phone"] == ""
    assert client.users_info(user=fake_slack.bot_user_id)["user"]["is_bot"] is True
    with pytest.raises(SlackApiError) as unknown:
        client.users_info(user="UNOBODY")
    assert unknown.value.response["error"] == "user_not_found"


@pytest.mark.parametrize(
    ("method", "scope"), [("users.info", "users:read"), ("usergroups.users.list", "usergroups:read")]
)
def test_people_need_their_scopes(fake_slack, client, method, scope):
    fake_slack.users["UBOB"] = {}
    fake_slack.usergroup_members = {"SONCALL": ["UBOB"]}
    fake_slack.scopes = [granted for granted in fake_slack.scopes if granted != scope]

    with pytest.raises(SlackApiError) as refused:
        client.api_call(method, params={"user": "UBOB", "usergroup": "SONCALL"})

    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == scope


def test_an_unknown_group_is_no_such_subteam(fake_slack, client):
    with pytest.raises(SlackApiError) as unknown:
        client.usergroups_users_list(usergroup="SGONE")
    assert unknown.value.response["error"] == "no_such_subteam"
