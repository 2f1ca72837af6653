"""What a send will cost before OVH says: SMS parts times receivers times the credits one SMS costs to each
receiver's country, and which character, if any, makes a text Unicode and so dearer.

Pure: the credits per country come from whoever asks (OVH's public rates, read by
:mod:`bot.ovh.rates`); a country whose rate is unknown counts one credit per part, OVH's price for France,
and the estimate says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.domain.receivers import Receiver
from bot.domain.sms_text import Encoding, Segmentation, gsm7_outsiders, measure

# What one SMS part costs where OVH's rate is unknown: one credit, OVH's price for France.
FALLBACK_CREDITS_PER_PART = 1.0
# The characters named when a text is Unicode: past this many, swapping them out is not "one character".
MAX_CULPRITS = 3

RateLookup = Callable[[str], float | None]
"""Credits for one SMS part to a country (``"ES"``), or None when unknown."""


@dataclass(frozen=True)
class CountryCost:
    """The receivers of one country and what each SMS part costs there (None: unknown, 1 assumed)."""

    region: str | None  # None: numbers of no country (+800, ...)
    receivers: int
    credits_per_part: float | None

    @property
    def rate(self) -> float:
        """The credits per part used in the estimate."""
        return FALLBACK_CREDITS_PER_PART if self.credits_per_part is None else self.credits_per_part


@dataclass(frozen=True)
class CostEstimate:
    """The estimated credits of one text to some receivers."""

    parts: int
    receivers: int
    credits: float
    countries: tuple[CountryCost, ...]

    @property
    def assumed(self) -> bool:
        """Whether some country's rate was unknown, so one credit per part was assumed there."""
        return any(country.credits_per_part is None for country in self.countries)

    def credits_for(self, parts: int) -> float:
        """What the same receivers would cost for a text of ``parts`` parts."""
        return parts * sum(country.receivers * country.rate for country in self.countries)


@dataclass(frozen=True)
class UnicodeCulprit:
    """The few characters that make a text Unicode, and what keeping them costs."""

    characters: tuple[str, ...]
    parts_with: int
    parts_without: int
    extra_credits: float  # 0 when the parts do not change


def estimate(
    segmentation: Segmentation,
    receivers: Sequence[Receiver],
    rates: RateLookup,
    *,
    unresolved: int = 0,
    unresolved_region: str | None = None,
) -> CostEstimate:
    """Parts times receivers times each receiver's country's credits per part. ``unresolved`` receivers
    whose number is not known yet (people picked in a form) are priced as ``unresolved_region`` numbers."""
    by_region = Counter(receiver.region for receiver in receivers)
    if unresolved:
        by_region[unresolved_region] += unresolved
    countries = tuple(
        CountryCost(region, count, rates(region) if region else None) for region, count in by_region.items()
    )
    cost = CostEstimate(segmentation.parts, len(receivers) + unresolved, 0.0, countries)
    return CostEstimate(cost.parts, cost.receivers, round(cost.credits_for(cost.parts), 4), countries)


def unicode_culprit(
    text: str, segmentation: Segmentation, cost: CostEstimate, *, stop_clause: bool = False
) -> UnicodeCulprit | None:
    """The characters (at most MAX_CULPRITS distinct ones) that turn ``text`` into Unicode, and the credits
    keeping them costs over the same text without them; None for a GSM-7 text, or one with more."""
    if segmentation.encoding is not Encoding.UCS2:
        return None
    outsiders = gsm7_outsiders(text)
    if not outsiders or len(outsiders) > MAX_CULPRITS:
        return None
    without = measure("".join(char for char in text if char not in outsiders), stop_clause=stop_clause)
    extra = cost.credits_for(segmentation.parts) - cost.credits_for(without.parts)
    return UnicodeCulprit(tuple(outsiders), segmentation.parts, without.parts, round(extra, 4))


def needs_confirmation(cost: CostEstimate, *, above_credits: float, above_receivers: int) -> bool:
    """Whether a send is costly enough to ask its author to confirm it first."""
    return cost.credits > above_credits or cost.receivers > above_receivers


def regions(receivers: Iterable[Receiver]) -> list[str]:
    """The distinct countries of ``receivers``, in order of first appearance."""
    return list(dict.fromkeys(receiver.region for receiver in receivers if receiver.region))
