"""The cost estimate: parts times receivers times each country's credits per part, and the Unicode culprit."""

from __future__ import annotations

import pytest

from bot.domain.cost import FALLBACK_CREDITS_PER_PART, estimate, unicode_culprit
from bot.domain.receivers import parse_receivers
from bot.domain.sms_text import measure

RATES = {"ES": 1.3, "FR": 1.0, "GB": 0.5}


def receivers(text: str):
    return parse_receivers(text, "ES")


def test_each_receiver_costs_its_countrys_rate_per_part():
    seg = measure("x" * 200)  # 2 parts
    cost = estimate(seg, receivers("600000001, 600000002, +33612345678, +447400123456"), RATES.get)

    assert (cost.parts, cost.receivers) == (2, 4)
    assert cost.credits == pytest.approx(2 * (1.3 * 2 + 1.0 + 0.5))
    assert not cost.assumed
    assert {(c.region, c.receivers, c.credits_per_part) for c in cost.countries} == {
        ("ES", 2, 1.3),
        ("FR", 1, 1.0),
        ("GB", 1, 0.5),
    }


def test_an_unknown_rate_counts_one_credit_per_part_and_says_so():
    cost = estimate(measure("hola"), receivers("600000001, +33612345678"), {"FR": 1.0}.get)

    assert cost.credits == 1.0 + FALLBACK_CREDITS_PER_PART
    assert cost.assumed


def test_one_accent_outside_gsm_is_named_with_what_keeping_it_costs():
    text = "Reunión mañana a las 9 en la sala grande, traed el informe del trimestre y las cifras de ventas."
    text += " Gracias."  # 106 characters: 1 SMS in GSM-7, 2 in Unicode because of `ó`
    seg = measure(text)
    cost = estimate(seg, receivers("600000001, 600000002"), RATES.get)

    culprit = unicode_culprit(text, seg, cost)

    assert culprit is not None
    assert culprit.characters == ("ó",)
    assert (culprit.parts_with, culprit.parts_without) == (2, 1)
    assert culprit.extra_credits == pytest.approx(2 * 1.3)


def test_a_gsm_text_has_no_culprit():
    text = "Plain GSM text, 100% fine: ñ ü é à ¿¡ {€}"  # Spanish and French letters inside GSM-7
    seg = measure(text)
    assert unicode_culprit(text, seg, estimate(seg, receivers("600000001"), RATES.get)) is None


def test_a_short_unicode_text_names_its_emoji_but_keeping_it_costs_nothing_more():
    text = "Deploy done 🚀"
    seg = measure(text)
    culprit = unicode_culprit(text, seg, estimate(seg, receivers("600000001"), RATES.get))
    assert culprit is not None
    assert culprit.characters == ("🚀",) and culprit.extra_credits == 0


def test_many_different_unicode_characters_are_not_one_culprit():
    text = "Привет, как дела? " * 3
    seg = measure(text)
    assert unicode_culprit(text, seg, estimate(seg, receivers("600000001"), RATES.get)) is None
