"""`{% rectification_record brand as record %}`: how a brand's bad reviews were handled, for the decision page."""

from django import template

from evaluations import selectors

register = template.Library()


@register.simple_tag
def rectification_record(brand) -> dict[str, int]:
    return selectors.rectification_record(brand=brand)
