"""Navigation helpers: which menu entries a user has any use for."""

from django import template

from organizations import rules

register = template.Library()


@register.simple_tag
def holds_role(user, action: str) -> bool:
    return rules.can_any(user, rules.Action(action))


@register.inclusion_tag("brands/_featured.html")
def featured_brands(limit: int = 6) -> dict:
    from brands.selectors import brand_featured

    return {"brands": brand_featured(limit=limit)}
