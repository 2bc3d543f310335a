"""`{% brand_score brand as summary %}`: a brand's all-time score summary, for the brand page partial."""

from django import template
from django.conf import settings

from scores import selectors
from scores.periods import period_code

register = template.Library()


@register.simple_tag
def brand_score(brand, period: str = "all") -> dict | None:
    row = selectors.brand_score_summary(brand=brand, period=period)
    if row is None:
        return None
    code = period_code(period)
    prior = selectors.period_priors(codes=[code])[code]
    return {
        "score": row,
        "bar": selectors.grade_bar(row),
        "ranked": row.rank is not None,
        "tentative": selectors.score_is_tentative(row, prior),
        "min_ratings": settings.SCORE_MIN_RATINGS,
        "prior_weight": round(prior.m),
    }
