"""Tags for the partial templates other pages include (brand page, workspace, dashboard)."""

from django import template

from evaluations import selectors

register = template.Library()


@register.simple_tag
def brand_rectification_counts(brand) -> dict[str, int]:
    return selectors.rectification_counts_for_brand(brand=brand)


@register.simple_tag
def reviewer_counts(user) -> dict[str, int]:
    return selectors.review_counts(user=user)


@register.simple_tag
def published_comments(brand, limit: int = 20):
    return list(selectors.brand_published_comments(brand=brand, limit=limit))
