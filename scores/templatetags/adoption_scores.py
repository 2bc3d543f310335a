"""`{% adoption_effects adoptions as rows %}`: how each adopting brand was rated before and after it adopted a case.

For the case page (templates/brands/case_detail.html): brands may not import scores, so the page asks here.
The figures come from `scores.selectors.adoption_effects` (one query for the whole list); this adds what the
page says about trusting them.
"""

from django import template

from scores import selectors

register = template.Library()


def _judged(effect: dict) -> dict:
    """The selector's figures plus ``comparable`` (both sides have ratings), ``interval`` (a 95% interval of
    the change exists) and ``may_be_chance`` (fewer than ADOPTION_FEW_RATINGS on a side, or an interval that
    includes no change at all)."""
    effect = dict(effect)
    effect["comparable"] = effect["change"] is not None
    effect["interval"] = effect["low"] is not None
    includes_zero = effect["interval"] and effect["low"] <= 0 <= effect["high"]
    effect["may_be_chance"] = effect["comparable"] and (effect["few"] or includes_zero)
    return effect


@register.simple_tag
def adoption_effects(adoptions) -> list[dict]:
    """For each CaseAdoption (its ``brand`` loaded): {"adoption": it, "effect": its figures}, in order."""
    adoptions = list(adoptions)
    effects = selectors.adoption_effects(adoptions=[(adoption.brand, adoption.adopted_on) for adoption in adoptions])
    return [
        {"adoption": adoption, "effect": _judged(effect)} for adoption, effect in zip(adoptions, effects, strict=True)
    ]
