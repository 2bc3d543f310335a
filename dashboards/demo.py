"""Demo content of the dashboard: brand histories that match the months of ratings, figures, warnings, one 帮扶 case.

Runs after the evaluations seeder. Safe to run again: it changes nothing once the case exists.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from brands.models import Brand, BrandTransition
from dashboards import selectors, services
from dashboards.models import EarlyWarning, SupportCase
from evaluations.models import Evaluation
from organizations.models import User
from scores import services as score_services


def _backdate_brands() -> int:
    """Brands and their status changes date from before their first rating, as they would in a real city.

    The seeders create them today; the dashboard counts brands by status at the end of each period, so
    without this the months of history would show ratings of brands that did not exist yet.
    """
    first = Evaluation.objects.order_by("rated_on").values_list("rated_on", flat=True).first()
    if first is None:
        return 0
    start = timezone.make_aware(datetime.combine(first, time.min)) - timedelta(days=60)
    moved = Brand.objects.filter(created_at__gt=start).update(created_at=start)
    for offset, transition in enumerate(BrandTransition.objects.filter(created_at__gt=start).order_by("id")):
        BrandTransition.objects.filter(pk=transition.pk).update(created_at=start + timedelta(days=10, minutes=offset))
    return moved


def seed(stdout=None) -> dict[str, int]:
    if SupportCase.objects.exists():
        return {"brands backdated": 0, "warnings": 0, "cases": 0}
    moved = _backdate_brands()
    score_services.scores_recompute_full()
    services.figures_refresh()
    evaluated = services.warnings_evaluate()
    reviewer = User.objects.get(username="reviewer")
    warning = (
        EarlyWarning.objects.filter(state=EarlyWarning.State.NEW, rule=EarlyWarning.Rule.FALL)
        .select_related("brand__organization")
        .first()
        or EarlyWarning.objects.filter(state=EarlyWarning.State.NEW).select_related("brand__organization").first()
    )
    cases = 0
    if warning is not None:
        suggestions = selectors.mentor_suggestions(brand=warning.brand)
        mentor = suggestions[0][0] if suggestions else warning.brand.organization.get_parent()
        case = services.support_case_open(
            user=reviewer,
            brand=warning.brand,
            mentor=mentor,
            goal="两个月内把来电首问响应恢复到当日办结，评价回到4分以上；每周由结对单位党员到窗口跟班一次。",
            warning=warning,
        )
        today = timezone.localdate()
        done = services.support_action_add(
            user=reviewer, case=case, text="结对单位党员到窗口跟班，梳理积压工单", owner=mentor.name, due_on=today
        )
        services.support_action_done(user=reviewer, action=done)
        services.support_action_add(
            user=reviewer,
            case=case,
            text="建立来电首问负责台账，周末安排党员值守",
            owner=warning.brand.organization.name,
            due_on=today + timedelta(days=30),
        )
        services.support_note_add(
            user=reviewer, case=case, text="第一次跟班：积压工单42件，已当场分派31件，余下11件约定本周内回访。"
        )
        cases = 1
    return {"brands backdated": moved, "warnings": evaluated["opened"], "cases": cases}
