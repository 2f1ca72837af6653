"""The fake OVH's public rates route, as OVH serves it: unsigned, checked against OVH's schema."""

from __future__ import annotations

import requests

from tests.fakes.ovh_api import FakeOvh


def rate(fake: FakeOvh, **query: str) -> requests.Response:
    return requests.get(f"{fake.endpoint}/sms/rates/destinations", params=query, timeout=5)


def test_rates_need_no_signature_and_default_to_one_credit(fake_ovh):
    fake_ovh.rates = {"es": 1.3}

    spain, france = rate(fake_ovh, country="es"), rate(fake_ovh, country="fr")

    assert spain.status_code == france.status_code == 200
    assert spain.json()["credit"] == 1.3 and france.json()["credit"] == 1.0
    assert fake_ovh.rate_requests == ["es", "fr"]
    assert fake_ovh.requests == []  # the signed calls' record is left to the bot's own


def test_a_country_outside_ovhs_list_or_none_is_refused_as_ovh_refuses_it(fake_ovh):
    assert rate(fake_ovh, country="ES").status_code == 400  # OVH's codes are lower-case
    assert rate(fake_ovh, country="xx").status_code == 400
    missing = rate(fake_ovh)
    assert missing.status_code == 400 and "country" in missing.json()["message"]


def test_rates_can_fail_on_demand(fake_ovh):
    fake_ovh.fail_next(503, path_contains="/rates")

    assert rate(fake_ovh, country="es").status_code == 503
    assert rate(fake_ovh, country="es").status_code == 200
