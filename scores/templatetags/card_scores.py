"""Scores on the public directory's brand cards, read once for the whole page.

``{% card_scores page.object_list as scores %}`` reads the all-time score and n of every brand on the
page in one go; each card then takes its own with ``{% with card=scores|card_score:brand.pk %}``. A page
that shows cards without calling the tag (the home page's featured brands) gets no score line.
"""

from django import template

from scores import selectors

register = template.Library()


@register.simple_tag
def card_scores(brands) -> dict[int, selectors.CardScore]:
    return selectors.brand_card_scores([brand.pk for brand in brands])


@register.filter
def card_score(scores, brand_id) -> selectors.CardScore | None:
    """The card's figures, or None where the page read none (no ``card_scores`` call)."""
    return scores.get(brand_id) if isinstance(scores, dict) else None
