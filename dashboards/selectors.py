"""Reads of the dashboard, each scoped to the subtree the reviewer's roles reach.

Everything here reads the precomputed `NodeFigures` rows, the score cells through `scores.selectors`
and a few bounded lists, so the number of queries does not grow with the brands or organizations in
scope.
"""

import math
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from brands.models import Brand
from config.errors import ApplicationError
from dashboards.models import EarlyWarning, NodeFigures, SupportCase
from dashboards.services import period_bounds, shown_periods
from evaluations.models import Evaluation, Rectification
from organizations import rules
from organizations.models import Organization
from scores import periods
from scores.models import GRADES, GROUPS
from scores.selectors import Ranking, period_priors

Z = 1.96
KINDS = (periods.Kind.MONTH, periods.Kind.QUARTER, periods.Kind.YEAR)
GROUP_LABELS = {"masses": _("Residents (群众)"), "member": _("Party members (党员)"), "sub_org": _("Sub-organizations")}


@dataclass
class Figures:
    """One node's figures in one period, with what derives from the additive counts."""

    counts: dict = field(default_factory=dict)
    prior_m: float = 0.0
    prior_c: float | None = None

    def get(self, key: str) -> int:
        return self.counts.get(key, 0)

    def group_grades(self, group: str = "") -> dict[int, int]:
        groups = [group] if group else GROUPS
        return {grade: sum(self.get(f"{g}_grade_{grade}") for g in groups) for grade in GRADES}

    def moments(self, group: str = "") -> tuple[int, float | None, float | None]:
        """n, mean grade and its variance (per rating) for a rater group or all."""
        grades = self.group_grades(group)
        n = sum(grades.values())
        if not n:
            return 0, None, None
        mean = sum(grade * count for grade, count in grades.items()) / n
        variance = sum(count * (grade - mean) ** 2 for grade, count in grades.items()) / max(n - 1, 1)
        return n, mean, variance

    @property
    def n(self) -> int:
        return self.moments()[0]

    @property
    def mean(self) -> float | None:
        return self.moments()[1]

    @property
    def score(self) -> float | None:
        """The node's mean, drawn towards the period's mean C with the period's prior weight m."""
        n, mean, _variance = self.moments()
        if not n or self.prior_c is None:
            return mean
        return (n * mean + self.prior_m * self.prior_c) / (n + self.prior_m)

    @property
    def interval(self) -> tuple[float, float] | None:
        n, mean, variance = self.moments()
        if not n or variance is None:
            return None
        half = Z * math.sqrt(variance / n)
        return max(1.0, mean - half), min(5.0, mean + half)

    @property
    def verified_share(self) -> float | None:
        n = self.n
        return sum(self.get(f"{g}_verified_n") for g in GROUPS) / n if n else None

    @property
    def bad_rate(self) -> float | None:
        n = self.n
        return sum(self.get(f"{g}_bad_n") for g in GROUPS) / n if n else None

    @property
    def on_time_rate(self) -> float | None:
        opened = self.get("rect_opened")
        return self.get("rect_on_time") / opened if opened else None

    @property
    def plan_progress(self) -> float | None:
        total = self.get("plan_total")
        return self.get("plan_done") / total if total else None

    @property
    def statuses(self) -> list[tuple[str, str, int]]:
        return [(value, label, self.get(f"status:{value}")) for value, label in Brand.Status.choices]

    @property
    def public_brands(self) -> int:
        return sum(self.get(f"status:{status}") for status in Brand.PUBLIC_STATUSES)

    @property
    def levels(self) -> list[tuple[str, str, int]]:
        return [(value, label, self.get(f"level:{value}")) for value, label in Brand.Level.choices]

    @property
    def coverage(self) -> list[tuple[str, str, int, int, float]]:
        """(domain, label, grassroots organizations, with a public brand, share) for domains present."""
        rows = []
        for value, label in Organization.Domain.choices:
            total = self.get(f"grassroots:{value}")
            if total:
                covered = self.get(f"covered:{value}")
                rows.append((value, label, total, covered, covered / total))
        return rows

    @property
    def coverage_share(self) -> float | None:
        total = sum(row[2] for row in self.coverage)
        return sum(row[3] for row in self.coverage) / total if total else None

    def groups_compared(self) -> list[dict]:
        rows = []
        for group in GROUPS:
            n, mean, variance = self.moments(group)
            rows.append({"group": group, "label": GROUP_LABELS[group], "n": n, "mean": mean, "variance": variance})
        return rows

    def public_versus_members(self) -> dict | None:
        """The residents' and the members' means, and whether they differ by more than their samples explain."""
        masses, members = self.moments("masses"), self.moments("member")
        if masses[0] < 2 or members[0] < 2:
            return None
        difference = masses[1] - members[1]
        error = math.sqrt(masses[2] / masses[0] + members[2] / members[0])
        return {
            "difference": difference,
            "error": error,
            "significant": error > 0 and abs(difference) > Z * error,
        }


HEADLINE_KEYS = ("public_brands", "coverage_share", "n", "verified_share", "mean", "score", "bad_rate")


def change(current, previous):
    """The change of a figure since the previous period, or None where either side is missing."""
    if current is None or previous is None:
        return None
    return current - previous


# --- scope and navigation ---------------------------------------------------------------------------------


def dashboard_roots(*, user) -> list[Organization]:
    """The top organizations of the reviewer's reach (usually one), shallowest first."""
    reach = list(rules.organizations_for(user, rules.Action.REVIEW).order_by("depth", "path")[:200])
    roots = [org for org in reach if not any(org.path.startswith(other.path) and other.pk != org.pk for other in reach)]
    return roots


def dashboard_node(*, user, node_id) -> Organization:
    """The node to show: one the user reviews, else 404; by default the top of their reach."""
    if node_id in (None, ""):
        roots = dashboard_roots(user=user)
        if not roots:
            raise Http404
        return roots[0]
    try:
        return rules.organization_get(user, rules.Action.REVIEW, int(node_id))
    except (TypeError, ValueError):
        raise Http404 from None


def breadcrumb(*, user, node: Organization) -> list[Organization]:
    """The node's ancestors the user may review, then the node: city → district → committee → branch."""
    step = Organization.steplen
    paths = [node.path[: step * depth] for depth in range(1, node.depth)]
    ancestors = Organization.objects.filter(rules.scope(user, rules.Action.REVIEW, field=""), path__in=paths)
    return [*ancestors.order_by("depth"), node]


def dashboard_period(period: str | None) -> tuple[str, int, str | None]:
    """(key, code, previous key) of the requested month, quarter or year; by default the last complete month."""
    today = timezone.localdate()
    last = (today.year - 1) * 100 + 12 if today.month == 1 else today.year * 100 + today.month - 1
    key = period or periods.period_key(last)
    kind = periods.period_kind(key)
    if kind not in KINDS:
        raise ApplicationError(str(_("Choose a month, a quarter or a year.")), field="period")
    return key, periods.period_code(key), periods.period_previous(key)


def period_choices() -> list[tuple[str, str]]:
    today = timezone.localdate()
    codes = sorted(shown_periods(today), key=lambda code: (KINDS.index(periods.code_kind(code)), -code))
    return [(periods.period_key(code), periods.period_key(code)) for code in codes]


# --- figures ------------------------------------------------------------------------------------------------------


def _priors(codes: list[int]) -> dict:
    return period_priors(codes=[code for code in codes if code is not None], group="")


def node_figures(*, node: Organization, code: int, previous: int | None) -> dict:
    """The node's figures and its children's, in the period and the previous one: one query for all rows."""
    children = list(node.get_children().order_by("name"))
    ids = [node.pk] + [child.pk for child in children]
    codes = [code] + ([previous] if previous is not None else [])
    rows = {
        (organization_id, period): figures
        for organization_id, period, figures in NodeFigures.objects.filter(
            organization_id__in=ids, period__in=codes
        ).values_list("organization_id", "period", "figures")
    }
    priors = _priors(codes)

    def figures_of(organization_id: int, period: int | None) -> Figures | None:
        if period is None:
            return None
        prior = priors.get(period)
        return Figures(
            counts=rows.get((organization_id, period), {}),
            prior_m=prior.m if prior else 0.0,
            prior_c=prior.mean if prior else None,
        )

    return {
        "current": figures_of(node.pk, code),
        "previous": figures_of(node.pk, previous),
        "children": [(child, figures_of(child.pk, code), figures_of(child.pk, previous)) for child in children],
        "computed": NodeFigures.objects.filter(organization_id=node.pk, period=code)
        .values_list("computed_at", flat=True)
        .first(),
    }


def node_series(*, node: Organization) -> list[tuple[str, Figures]]:
    """The node's last twelve months, oldest first: volume, score with interval, bad-review rate."""
    today = timezone.localdate()
    months = sorted(code for code in shown_periods(today) if periods.code_kind(code) == periods.Kind.MONTH)[-12:]
    rows = dict(NodeFigures.objects.filter(organization_id=node.pk, period__in=months).values_list("period", "figures"))
    priors = _priors(months)
    series = []
    for code in months:
        prior = priors.get(code)
        figures = Figures(
            counts=rows.get(code, {}), prior_m=prior.m if prior else 0.0, prior_c=prior.mean if prior else None
        )
        series.append((periods.period_key(code), figures))
    return series


# --- the scope's ranking, with private detail -----------------------------------------------------------------


@dataclass
class ScopeRanking:
    ranked: int
    unranked: int
    top: list
    bottom: list


def scope_ranking(*, node: Organization, period: str) -> ScopeRanking:
    """Top and bottom ten ranked brands of the subtree, with flagged ratings and rectification timeliness.

    The ranking itself is read once per scores version and cached; the private detail of the twenty
    brands is two queries.
    """
    ranking = Ranking(period=period, subtree=node.pk)
    key = f"dashboards:ranking:{node.pk}:{period}:{ranking.version()}"
    cached = cache.get(key)
    if cached is None:
        rows = list(ranking)
        ranked = [row for row in rows if row.rank is not None]
        cached = (len(ranked), len(rows) - len(ranked), ranked[:10], ranked[-10:] if len(ranked) > 10 else [])
        cache.set(key, cached, 3600)
    ranked_count, unranked, top, bottom = cached
    shown = [row.brand_id for row in top + bottom]
    start, after = period_bounds(periods.period_code(period))
    flagged = dict(
        Evaluation.objects.filter(
            brand_id__in=shown, state=Evaluation.State.FLAGGED, rated_on__gte=start, rated_on__lt=after
        )
        .values("brand_id")
        .annotate(n=Count("pk"))
        .values_list("brand_id", "n")
    )
    timeliness = {
        row["brand_id"]: row
        for row in Rectification.objects.filter(brand_id__in=shown)
        .values("brand_id")
        .annotate(
            total=Count("pk"),
            overdue=Count("pk", filter=Q(is_overdue=True)),
            answered=Count("pk", filter=Q(responded_at__isnull=False)),
        )
    }
    for row in top + bottom:
        row.flagged = flagged.get(row.brand_id, 0)
        detail = timeliness.get(row.brand_id, {})
        row.rectifications = detail.get("total", 0)
        row.rectifications_overdue = detail.get("overdue", 0)
    return ScopeRanking(ranked=ranked_count, unranked=unranked, top=top, bottom=bottom)


def scope_ranking_rows(*, node: Organization, period: str) -> list:
    """Every row of the subtree's ranking (the Excel and CSV exports), cached per scores version."""
    ranking = Ranking(period=period, subtree=node.pk)
    return cache.get_or_set(
        f"dashboards:ranking-rows:{node.pk}:{period}:{ranking.version()}", lambda: list(ranking), 3600
    )


# --- warnings and cases ----------------------------------------------------------------------------------------


def _in_subtree(node: Organization, field: str = "organization") -> Q:
    return Q(**{f"{field}__path__startswith": node.path})


def warnings_in_scope(*, user, node: Organization, limit: int | None = 20) -> QuerySet[EarlyWarning]:
    queryset = (
        EarlyWarning.objects.filter(rules.scope(user, rules.Action.REVIEW), _in_subtree(node))
        .filter(state__in=EarlyWarning.OPEN_STATES)
        .select_related("brand", "organization")
        .order_by("state", "-opened_at", "-id")
    )
    return queryset[:limit] if limit else queryset


def warning_get(*, user, pk: int) -> EarlyWarning:
    try:
        return EarlyWarning.objects.select_related("brand", "organization").get(
            rules.scope(user, rules.Action.REVIEW), pk=pk
        )
    except EarlyWarning.DoesNotExist:
        raise Http404 from None


def cases_in_scope(*, user, node: Organization, limit: int = 20) -> QuerySet[SupportCase]:
    return (
        SupportCase.objects.filter(rules.scope(user, rules.Action.REVIEW), _in_subtree(node))
        .select_related("brand", "organization", "mentor")
        .order_by("status", "-opened_at")[:limit]
    )


def case_visible_q(user) -> Q:
    """Cases a user may see: reviewers over the helped organization, members of either organization."""
    return (
        rules.scope(user, rules.Action.REVIEW)
        | rules.scope(user, rules.Action.VIEW)
        | rules.scope(user, rules.Action.VIEW, field="mentor")
    )


def case_get(*, user, pk: int) -> SupportCase:
    try:
        return SupportCase.objects.select_related("brand", "organization", "mentor", "warning").get(
            case_visible_q(user), pk=pk
        )
    except SupportCase.DoesNotExist:
        raise Http404 from None


def cases_for_workspace(*, user) -> QuerySet[SupportCase]:
    """Open cases where the user's organization is helped or mentors (both workspaces show them)."""
    return (
        SupportCase.objects.filter(
            rules.scope(user, rules.Action.MANAGE) | rules.scope(user, rules.Action.MANAGE, field="mentor"),
            status=SupportCase.Status.OPEN,
        )
        .select_related("brand", "organization", "mentor")
        .prefetch_related("actions")
        .order_by("-opened_at")
    )


def mentor_suggestions(*, brand: Brand, limit: int = 5) -> list[tuple[Organization, object]]:
    """Owners of demonstration brands in the same domain, best all-time score first."""
    demonstration = set(
        Brand.objects.filter(
            status=Brand.Status.DEMONSTRATION, organization__domain=brand.organization.domain
        ).values_list("pk", flat=True)
    )
    demonstration.discard(brand.pk)
    suggestions = []
    if demonstration:
        for row in Ranking(period="all", domain=brand.organization.domain):
            if row.brand_id in demonstration and row.organization_id != brand.organization_id:
                suggestions.append(row)
                if len(suggestions) == limit:
                    break
    organizations = Organization.objects.in_bulk([row.organization_id for row in suggestions])
    return [(organizations[row.organization_id], row) for row in suggestions]


def rectifications_in_scope(*, node: Organization, period: str) -> QuerySet[Rectification]:
    start, after = period_bounds(periods.period_code(period))
    return (
        Rectification.objects.filter(
            _in_subtree(node),
            created_at__date__gte=start,
            created_at__date__lt=after,
        )
        .select_related("brand", "organization", "evaluation")
        .order_by("due_on", "id")
    )


def open_warnings_by_brand(*, brand_ids: list[int]) -> dict[int, list[EarlyWarning]]:
    """Open warnings of the given brands (the secretary's workspace), in one query."""
    grouped: dict[int, list[EarlyWarning]] = {}
    for warning in EarlyWarning.objects.filter(brand_id__in=brand_ids, state__in=EarlyWarning.OPEN_STATES).order_by(
        "opened_at"
    ):
        grouped.setdefault(warning.brand_id, []).append(warning)
    return grouped
