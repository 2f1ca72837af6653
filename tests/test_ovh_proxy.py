"""OVH is reached through the proxy the environment names (read once per client), unless NO_PROXY says not."""

from __future__ import annotations

import pytest

from bot.domain.errors import DeliveryError
from bot.ovh.account import OvhAccount
from bot.ovh.client import client_factory

CLOSED_PORT_PROXY = "http://127.0.0.1:9"  # nothing listens on the discard port here


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_without_proxy_variables_ovh_is_reached_directly(make_settings, fake_ovh):
    assert OvhAccount.from_settings(make_settings()).list_services() == fake_ovh.services


def test_the_proxy_variable_is_honoured(make_settings, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", CLOSED_PORT_PROXY)
    with pytest.raises(DeliveryError) as raised:
        OvhAccount.from_settings(make_settings()).list_services()
    assert raised.value.code == "unreachable"


def test_no_proxy_is_honoured(make_settings, fake_ovh, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", CLOSED_PORT_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert OvhAccount.from_settings(make_settings()).list_services() == fake_ovh.services


def test_the_proxy_variables_are_read_once_per_client(make_settings, fake_ovh, monkeypatch):
    account = OvhAccount.from_settings(make_settings())
    assert account.list_services() == fake_ovh.services

    monkeypatch.setenv("HTTP_PROXY", CLOSED_PORT_PROXY)  # read again on each call, it would break them

    assert account.list_services() == fake_ovh.services


@pytest.mark.parametrize(
    ("variables", "bundle"),
    [
        ({}, True),  # the bundle `requests` ships
        ({"CURL_CA_BUNDLE": "/etc/ssl/curl-bundle.pem"}, "/etc/ssl/curl-bundle.pem"),
        (
            {"REQUESTS_CA_BUNDLE": "/etc/ssl/requests.pem", "CURL_CA_BUNDLE": "/etc/ssl/curl.pem"},
            "/etc/ssl/requests.pem",
        ),
    ],
)
def test_ovhs_certificate_is_checked_against_the_bundle_the_environment_names(
    make_settings, monkeypatch, variables, bundle
):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    client = client_factory(make_settings())()

    assert client._session.verify == bundle
