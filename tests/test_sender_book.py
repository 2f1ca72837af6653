"""What the form offers from the OVH account (its enabled senders, whether receivers can reply), read from
the fake OVH API over HTTP: the first form waits for the first read, later ones take what was read last and
a stale read is done again in the background; a submission asks OVH about its one sender, within a bound."""

from __future__ import annotations

import threading

import pytest

from bot.domain.errors import DeliveryError
from bot.ovh.client import OvhClient
from bot.ovh.senders import MAX_SENDERS, REFRESH_SECONDS, AccountOffer, SenderBook
from tests.processes import wait_for
from tests.test_rates import Clock  # the book's clock, moved by the test

SERVICE = "sms-tt12345-1"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def book(make_settings, clock) -> SenderBook:
    return SenderBook(OvhClient.from_settings(make_settings()), clock=clock)


def sender_reads(fake_ovh) -> int:
    return sum(1 for request in fake_ovh.requests if request.path == f"/sms/{SERVICE}/senders")


def test_the_first_form_waits_for_the_accounts_enabled_senders(fake_ovh, book):
    fake_ovh.senders = {"ZETA": "enable", "ACME": "enable", "OLD": "disable", "NEW": "waitingValidation"}
    fake_ovh.response_type = "cgi"

    offer = book.offer(first_wait=10)

    assert offer == AccountOffer(senders=("ACME", "ZETA"), replies=True)


@pytest.mark.parametrize(("response_type", "replies"), [("cgi", True), ("text", True), ("none", False)])
def test_replies_are_offered_only_where_the_account_handles_them(fake_ovh, book, response_type, replies):
    fake_ovh.response_type = response_type

    assert book.refresh().replies is replies


def test_a_fresh_read_is_kept_and_a_stale_one_is_done_again_in_the_background(fake_ovh, book, clock):
    fake_ovh.senders = {"ACME": "enable"}
    assert book.offer(first_wait=10).senders == ("ACME",)
    fake_ovh.senders = {"ACME": "enable", "BETA": "enable"}

    clock.now += REFRESH_SECONDS - 1
    assert book.offer().senders == ("ACME",)
    assert sender_reads(fake_ovh) == 1  # fresh enough: OVH is not asked again

    clock.now += 2
    fake_ovh.hold_requests("/senders")
    try:
        assert book.offer().senders == ("ACME",)  # what was read last, at once: OVH is not waited for
        fake_ovh.wait_for_held(1)
    finally:
        fake_ovh.release_jobs()
    wait_for("the background read", lambda: book.offer().senders == ("ACME", "BETA"))
    assert sender_reads(fake_ovh) == 2


def test_when_ovh_cannot_be_read_what_was_known_stays_and_it_is_asked_again_a_minute_later(
    fake_ovh, book, clock
):
    fake_ovh.senders = {"ACME": "enable"}
    assert book.refresh().senders == ("ACME",)
    clock.now += REFRESH_SECONDS + 1
    fake_ovh.fail_next(500, path_contains="/senders")

    assert book.refresh().senders == ("ACME",)

    clock.now += 59
    assert book.offer().senders == ("ACME",)
    assert sender_reads(fake_ovh) == 2  # the failed read, and no other within the minute
    clock.now += 2
    book.offer()
    wait_for("a new read", lambda: sender_reads(fake_ovh) == 3)


def test_the_first_form_does_not_wait_longer_than_its_bound_for_a_silent_ovh(fake_ovh, book):
    fake_ovh.senders = {"ACME": "enable"}
    fake_ovh.hold_requests("/senders")
    try:
        assert book.offer(first_wait=0.05) == AccountOffer()  # the form opens with the default sender
    finally:
        fake_ovh.release_jobs()
    wait_for("the first read", lambda: book.offer().senders == ("ACME",))


def test_only_the_first_hundred_senders_are_asked_about(fake_ovh, book):
    fake_ovh.senders = {f"S{number:03}": "enable" for number in range(MAX_SENDERS + 5)}

    offer = book.refresh()

    assert len(offer.senders) == MAX_SENDERS and offer.senders[-1] == f"S{MAX_SENDERS - 1:03}"
    asked = [r.path for r in fake_ovh.requests if r.path.startswith(f"/sms/{SERVICE}/senders/")]
    assert len(asked) == MAX_SENDERS


def test_a_senders_status_is_read_by_its_whole_name(fake_ovh, book):
    fake_ovh.senders = {"ACME": "enable", "ACME/EU": "refused"}

    assert book.status(SERVICE, "ACME/EU") == "refused"
    assert book.status(SERVICE, "ACME") == "enable"
    assert book.status(SERVICE, "NOBODY") is None
    assert fake_ovh.requests[-3].path == f"/sms/{SERVICE}/senders/ACME%2FEU"


def test_a_failed_status_read_names_the_sender(fake_ovh, book):
    fake_ovh.senders = {"ACME": "enable"}
    fake_ovh.fail_next(500, path_contains="/senders/")

    with pytest.raises(DeliveryError) as failed:
        book.status(SERVICE, "ACME")

    assert failed.value.code == "unavailable"
    assert failed.value.user_message == "OVH did not say whether sender ACME is enabled."


def test_a_submission_learns_whether_its_sender_is_still_enabled(fake_ovh, book):
    fake_ovh.senders = {"ACME": "enable", "OLD": "disable"}

    assert book.still_enabled("ACME") is True
    assert book.still_enabled("OLD") is False
    assert book.still_enabled("NOBODY") is False
    fake_ovh.fail_next(500, path_contains="/senders/")
    assert book.still_enabled("ACME") is None  # OVH did not say: the send itself will tell


def test_a_submission_does_not_wait_beyond_its_bound_for_ovh(fake_ovh, book):
    fake_ovh.senders = {"ACME": "enable"}
    fake_ovh.hold_requests("/senders/")
    # Released after 10 s whatever happens, so that a book that waited for OVH would answer True here.
    releaser = threading.Timer(10, fake_ovh.release_jobs)
    releaser.start()
    try:
        assert book.still_enabled("ACME", timeout=0.05) is None
        assert fake_ovh.held == 1  # OVH had still not answered
    finally:
        releaser.cancel()
        fake_ovh.release_jobs()
