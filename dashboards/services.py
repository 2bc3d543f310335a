"""Writes of the dashboard: the precomputed figures of every subtree, early warnings, 帮扶 cases.

`figures_refresh` rebuilds `NodeFigures` for the periods the dashboard shows: for each organization it
counts what it owns (brands by status and level at the period's end, grassroots organizations and
whether they have a public brand, ratings per grade and rater group from the score cells, held and
flagged ratings, rectifications), then adds every organization's counts into all its ancestors, so
a node's figures equal its own plus the sum of its children's. The dashboard then reads a handful of
rows whatever the size of the subtree.
"""

from bisect import bisect_right
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from brands.models import Brand, BrandTransition, Milestone
from config.errors import ApplicationError, Conflict, NotFound
from dashboards.models import EarlyWarning, NodeFigures, SupportAction, SupportCase, SupportEvent
from evaluations.models import Evaluation, Rectification
from organizations import rules
from organizations.audit import audit_record
from organizations.models import Organization
from scores import periods
from scores.models import GRADES, GROUPS, ScoreCell

# Basic-level Party organizations (基层党组织): grassroots committees, general branches and branches.
GRASSROOTS_LEVELS = (
    Organization.Level.COMMITTEE,
    Organization.Level.GENERAL_BRANCH,
    Organization.Level.BRANCH,
)
MONTHS_KEPT = 13  # the trend's twelve months and the one before


def shown_periods(today: date) -> list[int]:
    """Period codes the dashboard offers: the last MONTHS_KEPT months and their quarters and years."""
    months = []
    year, month = today.year, today.month
    for _index in range(MONTHS_KEPT):
        months.append(year * 100 + month)
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    quarters = sorted({periods.parent_code(code) for code in months} | {periods.parent_code(months[-1]) - 1})
    years = sorted({code // 100 for code in months} | {months[-1] // 100 - 1})
    return sorted(months) + quarters + years


def period_bounds(code: int) -> tuple[date, date]:
    """First day of the period and first day after it."""
    kind = periods.code_kind(code)
    if kind == periods.Kind.MONTH:
        return periods.month_bounds(code)
    if kind == periods.Kind.QUARTER:
        year, quarter = divmod(code, 10)
        first = year * 100 + 3 * quarter - 2
        return periods.month_bounds(first)[0], periods.month_bounds(first + 2)[1]
    return date(code, 1, 1), date(code + 1, 1, 1)


def _month_codes(first: date, after: date) -> list[int]:
    codes, day = [], first
    while day < after:
        codes.append(day.year * 100 + day.month)
        day = periods.month_bounds(codes[-1])[1]
    return codes


def _end_of(day: date):
    return timezone.make_aware(datetime.combine(day, time.min))


def _status_history() -> dict[int, tuple[list, list]]:
    """Per brand, the times of its status changes and the status after each, oldest first."""
    history: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    for brand_id, to_status, at in BrandTransition.objects.order_by("created_at", "id").values_list(
        "brand_id", "to_status", "created_at"
    ):
        times, statuses = history[brand_id]
        times.append(at)
        statuses.append(to_status)
    return history


def _monthly_counts(since: date) -> tuple[dict, dict]:
    """Held/flagged ratings and rectifications per (organization, month code) since a date, one query each."""
    ratings: dict = defaultdict(Counter)
    flagged = (
        Evaluation.objects.filter(rated_on__gte=since, state=Evaluation.State.FLAGGED)
        .annotate(month=TruncMonth("rated_on"))
        .values("organization_id", "month")
        .annotate(flagged=Count("pk"), held=Count("pk", filter=Q(surge__isnull=False)))
    )
    for row in flagged:
        key = (row["organization_id"], row["month"].year * 100 + row["month"].month)
        ratings[key]["flagged"] += row["flagged"]
        ratings[key]["held"] += row["held"]
    rectifications: dict = defaultdict(Counter)
    rows = (
        Rectification.objects.filter(created_at__gte=_end_of(since))
        .annotate(month=TruncMonth("created_at"))
        .values("organization_id", "month", "status", "is_overdue", "due_on", "responded_at")
    )
    awaiting = set(Rectification.AWAITING_RESPONSE)
    finished = {*Rectification.FINISHED}
    for row in rows:
        month = timezone.localtime(row["month"]) if isinstance(row["month"], datetime) else row["month"]
        counter = rectifications[(row["organization_id"], month.year * 100 + month.month)]
        counter["rect_opened"] += 1
        counter["rect_open"] += row["status"] not in finished
        counter["rect_overdue"] += row["is_overdue"] and row["status"] in awaiting
        responded = row["responded_at"]
        counter["rect_on_time"] += bool(responded and timezone.localdate(responded) <= row["due_on"])
    return ratings, rectifications


def _plan_progress() -> dict[int, Counter]:
    """Milestone weights per organization: total and done (plan progress is done / total)."""
    out: dict[int, Counter] = defaultdict(Counter)
    rows = Milestone.objects.values("organization_id").annotate(
        total=Sum("weight"), done=Sum("weight", filter=Q(completed_on__isnull=False))
    )
    for row in rows:
        out[row["organization_id"]]["plan_total"] += row["total"] or 0
        out[row["organization_id"]]["plan_done"] += row["done"] or 0
    return out


def figures_refresh(*, today: date | None = None) -> dict[str, int]:
    """Rebuild the dashboard's figures for every organization and shown period. Safe to run again."""
    today = today or timezone.localdate()
    codes = shown_periods(today)
    organizations = list(Organization.objects.values_list("pk", "path", "level", "domain"))
    by_path = {path: pk for pk, path, _level, _domain in organizations}
    step = Organization.steplen
    parent = {pk: by_path.get(path[:-step]) for pk, path, _level, _domain in organizations}
    brands = list(Brand.objects.values_list("pk", "organization_id", "status", "level", "created_at"))
    history = _status_history()
    earliest = period_bounds(min(codes))[0]
    monthly_ratings, monthly_rectifications = _monthly_counts(earliest)
    monthly: dict[int, list] = defaultdict(list)
    for source in (monthly_ratings, monthly_rectifications):
        for (organization_id, month_code), counter in source.items():
            monthly[month_code].append((organization_id, counter))
    plan = _plan_progress()
    cells = defaultdict(dict)
    columns = [f"{group}_{measure}" for group in GROUPS for measure in ("n", "bad_n", "verified_n")]
    columns += [f"{group}_grade_{grade}" for group in GROUPS for grade in GRADES]
    for row in ScoreCell.objects.filter(period__in=codes).values_list("brand_id", "period", *columns):
        cells[row[1]][row[0]] = dict(zip(columns, row[2:], strict=True))
    brand_org = {pk: organization_id for pk, organization_id, *_rest in brands}
    rows = []
    for code in codes:
        start, after = period_bounds(code)
        end = _end_of(after)
        own: dict[int, Counter] = defaultdict(Counter)
        covered: set[int] = set()
        for pk, organization_id, status, level, created_at in brands:
            if created_at >= end:
                continue
            times, statuses = history.get(pk, ([], []))
            position = bisect_right(times, end)
            status_then = statuses[position - 1] if position else (status if not times else Brand.Status.DRAFT)
            own[organization_id][f"status:{status_then}"] += 1
            if status_then in Brand.PUBLIC_STATUSES:
                own[organization_id][f"level:{level}"] += 1
                covered.add(organization_id)
        for pk, _path, level, domain in organizations:
            if level in GRASSROOTS_LEVELS:
                own[pk][f"grassroots:{domain}"] += 1
                own[pk][f"covered:{domain}"] += pk in covered
        for brand_id, counts in cells[code].items():
            target = own[brand_org[brand_id]]
            for column, value in counts.items():
                target[column] += value
        for month in _month_codes(start, after):
            for organization_id, counter in monthly.get(month, ()):
                own[organization_id].update(counter)
        for organization_id, counter in plan.items():
            own[organization_id].update(counter)
        # Every organization's counts go into each of its ancestors (deepest first is not needed: the
        # walk adds an organization's own counts along its whole path).
        totals: dict[int, Counter] = defaultdict(Counter)
        for pk, counter in own.items():
            node = pk
            while node is not None:
                totals[node].update(counter)
                node = parent.get(node)
        now = timezone.now()
        for pk, _path, _level, _domain in organizations:
            figures = {key: value for key, value in totals[pk].items() if value}
            rows.append(NodeFigures(organization_id=pk, period=code, figures=figures, computed_at=now))
    with transaction.atomic():
        NodeFigures.objects.filter(period__in=codes).delete()
        NodeFigures.objects.bulk_create(rows, batch_size=2000)
    return {"periods": len(codes), "rows": len(rows)}


# --- early warnings (后进帮扶) ------------------------------------------------------------------------


def _complete_months(today: date, count: int) -> list[int]:
    """The last ``count`` complete months before today's, newest first."""
    codes, year, month = [], today.year, today.month
    for _index in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        codes.append(year * 100 + month)
    return codes


def _bottom_of_scope(public: dict[int, Brand], months: list[int]) -> dict[int, dict]:
    """Ranked brands in the bottom share of their domain's ranking in each of ``months``."""
    from scores.selectors import Ranking

    share = settings.WARNING_BOTTOM_SHARE
    placed: dict[int, list] = defaultdict(list)
    domains = {brand.organization.domain for brand in public.values()}
    for code in months:
        for domain in domains:
            rows = [row for row in Ranking(period=periods.period_key(code), domain=domain) if row.rank is not None]
            cut = len(rows) - max(1, round(share * len(rows)))
            for row in rows:
                if row.rank > cut and len(rows) >= 10:
                    placed[row.brand_id].append(
                        {"period": periods.period_key(code), "rank": row.rank, "of": len(rows), "score": row.score}
                    )
    return {pk: {"periods": entries} for pk, entries in placed.items() if len(entries) == len(months)}


def _grade_moments(counts: dict) -> tuple[int, float, float]:
    n = sum(counts.values())
    if not n:
        return 0, 0.0, 0.0
    mean = sum(grade * count for grade, count in counts.items()) / n
    variance = sum(count * (grade - mean) ** 2 for grade, count in counts.items()) / max(n - 1, 1)
    return n, mean, variance


def _score_falls(public: dict[int, Brand], today: date) -> dict[int, dict]:
    """Brands whose last complete month's mean grade is below the three months before by more than chance."""
    latest, *before = _complete_months(today, 4)
    columns = [f"{group}_grade_{grade}" for group in GROUPS for grade in GRADES]
    grades: dict[tuple[int, bool], Counter] = defaultdict(Counter)
    for brand_id, period, *values in ScoreCell.objects.filter(
        period__in=[latest, *before], brand_id__in=list(public)
    ).values_list("brand_id", "period", *columns):
        for column, value in zip(columns, values, strict=True):
            grades[(brand_id, period == latest)][int(column[-1])] += value
    fired = {}
    for pk in public:
        n1, mean1, var1 = _grade_moments(grades.get((pk, True), {}))
        n0, mean0, var0 = _grade_moments(grades.get((pk, False), {}))
        minimum = settings.WARNING_FALL_MIN_RATINGS
        if n1 < minimum or n0 < minimum:
            continue
        error = (var1 / n1 + var0 / n0) ** 0.5
        if error == 0:
            continue
        z = (mean1 - mean0) / error
        if z <= -settings.WARNING_FALL_Z:
            fired[pk] = {
                "month": periods.period_key(latest),
                "mean_after": round(mean1, 3),
                "n_after": n1,
                "mean_before": round(mean0, 3),
                "n_before": n0,
                "z": round(z, 2),
            }
    return fired


def _overdue_rectifications(public: dict[int, Brand]) -> dict[int, dict]:
    rows = (
        Rectification.objects.filter(
            brand_id__in=list(public), is_overdue=True, status__in=Rectification.AWAITING_RESPONSE
        )
        .values("brand_id")
        .annotate(n=Count("pk"))
    )
    limit = settings.WARNING_OVERDUE_RECTIFICATIONS
    return {row["brand_id"]: {"overdue": row["n"], "limit": limit} for row in rows if row["n"] >= limit}


def _overdue_milestones(public: dict[int, Brand], today: date) -> dict[int, dict]:
    rows = (
        Milestone.objects.filter(plan__brand_id__in=list(public), due_date__lt=today, completed_on__isnull=True)
        .values("plan__brand_id")
        .annotate(n=Count("pk"))
    )
    limit = settings.WARNING_OVERDUE_MILESTONES
    return {row["plan__brand_id"]: {"overdue": row["n"], "limit": limit} for row in rows if row["n"] >= limit}


def _silent(public: dict[int, Brand], today: date) -> dict[int, dict]:
    days = settings.WARNING_SILENT_DAYS
    since = today - timedelta(days=days)
    rated = set(
        Evaluation.objects.filter(brand_id__in=list(public), rated_on__gte=since)
        .values_list("brand_id", flat=True)
        .distinct()
    )
    old_enough = timezone.now() - timedelta(days=days)
    return {pk: {"days": days} for pk, brand in public.items() if pk not in rated and brand.created_at <= old_enough}


def warnings_evaluate(*, today: date | None = None) -> dict[str, int]:
    """Evaluate every rule over the public brands; open, update and resolve warnings. Safe to run again."""
    today = today or timezone.localdate()
    public = {b.pk: b for b in Brand.objects.filter(status__in=Brand.PUBLIC_STATUSES).select_related("organization")}
    R = EarlyWarning.Rule
    firing: dict[tuple[int, str], dict] = {}
    for rule, found in (
        (R.BOTTOM, _bottom_of_scope(public, _complete_months(today, 2))),
        (R.FALL, _score_falls(public, today)),
        (R.OVERDUE_RECTIFICATIONS, _overdue_rectifications(public)),
        (R.OVERDUE_MILESTONES, _overdue_milestones(public, today)),
        (R.SILENT, _silent(public, today)),
    ):
        for brand_id, figures in found.items():
            firing[(brand_id, rule)] = figures
    now = timezone.now()
    opened = resolved = 0
    with transaction.atomic():
        current = {
            (w.brand_id, w.rule): w
            for w in EarlyWarning.objects.select_for_update().filter(state__in=EarlyWarning.OPEN_STATES)
        }
        for key, warning in current.items():
            if key not in firing:
                before = warning.state
                warning.state, warning.resolved_at, warning.updated_at = EarlyWarning.State.RESOLVED, now, now
                warning.save(update_fields=["state", "resolved_at", "updated_at"])
                _audit_warning(warning, "warning.resolve", before=before, actor=None)
                resolved += 1
        for (brand_id, rule), figures in firing.items():
            warning = current.get((brand_id, rule))
            if warning is None:
                warning = EarlyWarning.objects.create(
                    brand_id=brand_id, organization_id=public[brand_id].organization_id, rule=rule, figures=figures
                )
                _audit_warning(warning, "warning.open", before=None, actor=None, detail=public[brand_id].name)
                opened += 1
            elif warning.figures != figures:
                warning.figures, warning.updated_at = figures, now
                warning.save(update_fields=["figures", "updated_at"])
    return {"firing": len(firing), "opened": opened, "resolved": resolved}


def _audit_warning(warning: EarlyWarning, action: str, *, before: str | None, actor, detail: str = "") -> None:
    audit_record(
        actor=actor,
        action=action,
        target=warning,
        before={"state": before} if before else {},
        after={"state": warning.state},
        detail=detail,
        label=warning.rule,
    )


@transaction.atomic
def warning_acknowledge(*, user, warning: EarlyWarning) -> EarlyWarning:
    rules.require(user, rules.Action.REVIEW, warning.organization)
    warning = EarlyWarning.objects.select_for_update().get(pk=warning.pk)
    if warning.state != EarlyWarning.State.NEW:
        raise Conflict(_("Only a new warning can be acknowledged."), code="wrong_status")
    warning.state, warning.updated_at = EarlyWarning.State.ACKNOWLEDGED, timezone.now()
    warning.save(update_fields=["state", "updated_at"])
    _audit_warning(warning, "warning.acknowledge", before=EarlyWarning.State.NEW, actor=user)
    return warning


# --- 帮扶 cases ----------------------------------------------------------------------------------------


def _brand_score(brand: Brand) -> tuple[float | None, int]:
    from scores.selectors import brand_score_summary

    row = brand_score_summary(brand=brand)
    return (row.score if row else None), (row.n if row else 0)


def _event(case: SupportCase, kind: str, actor, text: str = "") -> None:
    SupportEvent.objects.create(case=case, kind=kind, actor=actor, text=text)


def _require_case_party(user, case: SupportCase) -> None:
    """Reviewers over the helped organization, and those who manage either organization, work on a case."""
    if not (
        rules.can(user, rules.Action.REVIEW, case.organization)
        or rules.can(user, rules.Action.MANAGE, case.organization)
        or rules.can(user, rules.Action.MANAGE, case.mentor)
    ):
        raise NotFound(_("You cannot work on this case."))


@transaction.atomic
def support_case_open(
    *, user, brand: Brand, mentor: Organization, goal: str, warning: EarlyWarning | None = None
) -> SupportCase:
    """A reviewer pairs the lagging brand's organization with a mentor organization (帮扶)."""
    rules.require(user, rules.Action.REVIEW, brand.organization)
    goal = (goal or "").strip()
    if not goal:
        raise ApplicationError(_("Write what the case should achieve."), field="goal")
    if mentor.pk == brand.organization_id:
        raise ApplicationError(_("The mentor must be another organization."), field="mentor")
    score, n = _brand_score(brand)
    case = SupportCase.objects.create(
        organization_id=brand.organization_id,
        brand=brand,
        mentor=mentor,
        warning=warning,
        goal=goal[:2000],
        opened_by=user,
        score_before=score,
        n_before=n,
    )
    if warning is not None and warning.state in (EarlyWarning.State.NEW, EarlyWarning.State.ACKNOWLEDGED):
        before = warning.state
        warning.state, warning.updated_at = EarlyWarning.State.IN_CASE, timezone.now()
        warning.save(update_fields=["state", "updated_at"])
        _audit_warning(warning, "warning.take_up", before=before, actor=user)
    _event(case, SupportEvent.Kind.OPENED, user, goal)
    audit_record(
        actor=user,
        action="support_case.open",
        target=case,
        after={"status": case.status, "mentor": mentor.pk},
        detail=goal,
        label=brand.name,
    )
    return case


def _require_open(case: SupportCase) -> None:
    if case.status != SupportCase.Status.OPEN:
        raise Conflict(_("This case is closed."), code="wrong_status")


@transaction.atomic
def support_action_add(*, user, case: SupportCase, text: str, owner: str, due_on: date) -> SupportAction:
    _require_case_party(user, case)
    _require_open(case)
    text, owner = (text or "").strip(), (owner or "").strip()
    if not text:
        raise ApplicationError(_("Write the action."), field="text")
    if not owner:
        raise ApplicationError(_("Name who owns the action."), field="owner")
    action = SupportAction.objects.create(case=case, text=text[:300], owner=owner[:100], due_on=due_on)
    _event(case, SupportEvent.Kind.ACTION_ADDED, user, f"{action.text} · {action.owner} · {due_on:%Y-%m-%d}")
    audit_record(
        actor=user,
        action="support_action.add",
        target=action,
        organization=case.organization_id,
        after={"text": action.text, "owner": action.owner, "due_on": due_on},
    )
    return action


@transaction.atomic
def support_action_done(*, user, action: SupportAction) -> SupportAction:
    _require_case_party(user, action.case)
    _require_open(action.case)
    if action.done_at is None:
        action.done_at = timezone.now()
        action.save(update_fields=["done_at"])
        _event(action.case, SupportEvent.Kind.ACTION_DONE, user, action.text)
        audit_record(
            actor=user,
            action="support_action.done",
            target=action,
            organization=action.case.organization_id,
            before={"done_at": None},
            after={"done_at": action.done_at},
        )
    return action


@transaction.atomic
def support_note_add(*, user, case: SupportCase, text: str) -> SupportEvent:
    _require_case_party(user, case)
    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("Write the note."), field="text")
    event = SupportEvent.objects.create(case=case, kind=SupportEvent.Kind.NOTE, actor=user, text=text[:4000])
    audit_record(actor=user, action="support_case.note", target=case, detail=event.text, label=case.brand.name)
    return event


@transaction.atomic
def support_case_close(*, user, case: SupportCase, review: str) -> SupportCase:
    """The reviewer closes the case with a review; the brand's score now is kept beside the score before."""
    rules.require(user, rules.Action.REVIEW, case.organization)
    _require_open(case)
    review = (review or "").strip()
    if not review:
        raise ApplicationError(_("Write the closing review."), field="review")
    case.score_after, case.n_after = _brand_score(case.brand)
    case.status, case.review, case.closed_at = SupportCase.Status.CLOSED, review[:4000], timezone.now()
    case.save(update_fields=["score_after", "n_after", "status", "review", "closed_at"])
    _event(case, SupportEvent.Kind.CLOSED, user, review)
    audit_record(
        actor=user,
        action="support_case.close",
        target=case,
        before={"status": SupportCase.Status.OPEN},
        after={"status": case.status, "score_after": case.score_after, "n_after": case.n_after},
        detail=review,
        label=case.brand.name,
    )
    return case
