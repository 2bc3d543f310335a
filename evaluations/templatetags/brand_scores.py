"""`{% brand_score brand as summary %}`: a brand's all-time score summary, for the brand page partial."""

from django import template
from django.conf import settings

from evaluations import rankings

register = template.Library()


@register.simple_tag
def brand_score(brand, period: str = "all") -> dict | None:
    score = rankings.brand_score_summary(brand=brand, period=period)
    if score is None:
        return None
    return {
        "score": score,
        "bar": rankings.grade_bar(score),
        "ranked": score.rank is not None,
        "tentative": rankings.score_is_tentative(score),
        "min_ratings": settings.SCORE_MIN_RATINGS,
        "prior_weight": settings.SCORE_PRIOR_WEIGHT,
    }
