"""`{% decision_scores brand as ratings %}`: what the reviewer reads before deciding on a brand's status.

The brand's all-time score, its number of counted ratings and bad-review rate, and its recent months
(n, score and bad-review rate of each), all from ``scores.selectors``.
"""

from django import template
from django.conf import settings

from scores import selectors

register = template.Library()

TREND_MONTHS = 12


@register.simple_tag
def decision_scores(brand) -> dict:
    summary = selectors.brand_score_summary(brand=brand)
    minimum = settings.SCORE_MIN_RATINGS
    months = [
        {
            "period": point.period,
            "n": point.n,
            # Below the minimum a month has no score, as a brand has none in the rankings.
            "score": point.score if point.n >= minimum else None,
            "bad_rate": point.bad_rate,
        }
        for point in selectors.brand_series(brand=brand)[-TREND_MONTHS:]
    ]
    return {
        "summary": summary,
        "scored": summary is not None and summary.score is not None,
        "months": months,
        "min_ratings": minimum,
    }
