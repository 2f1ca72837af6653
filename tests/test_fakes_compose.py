"""The fake OVH's routes for the form: public rates (unsigned, checked against OVH's schema), deferred jobs
and their deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from bot.domain.records import JobOptions
from bot.ovh.gateway import OvhGateway
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


def test_a_deferred_job_waits_in_the_queue_until_deleted_and_its_credits_come_back(fake_ovh, make_settings):
    fake_ovh.rules.append(("DELETE", "/sms/*/jobs/*"))
    gateway = OvhGateway.from_settings(make_settings())
    later = JobOptions(send_at=datetime.now(UTC) + timedelta(minutes=90))

    job = gateway.post(message="Later", receivers=["+34600000001"], tag="t-1", options=later)

    [posted] = fake_ovh.jobs
    assert posted.body["differedPeriod"] in (90, 91)
    assert fake_ovh.credits_left == 99
    [job_id] = job.job_ids
    assert gateway.cancel_job(job.service, job_id) is True
    assert fake_ovh.deleted_jobs == [job_id] and fake_ovh.credits_left == 100
    assert gateway.cancel_job(job.service, job_id) is False  # gone: OVH answers 404
