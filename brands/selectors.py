"""Reads over brands: public directory, tenant-scoped lists, review queues and progress.

Visibility rules live here (and in ``organizations.rules``), so pages and the API agree.
"""

import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Case as DbCase
from django.db.models import IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from brands.models import Brand, BrandTransition, Case, Commitment, Milestone, Plan, ProgressReport, ReportPhoto
from organizations import rules


def _weights(*, done: bool | None) -> Subquery:
    milestones = Milestone.objects.filter(plan__brand=OuterRef("pk"))
    if done:
        milestones = milestones.filter(completed_on__isnull=False)
    total = milestones.order_by().values("plan__brand").annotate(total=Sum("weight")).values("total")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def with_progress(queryset: QuerySet[Brand]) -> QuerySet[Brand]:
    """Annotate ``weight_total`` and ``weight_done``; ``progress_percent`` derives from them."""
    return queryset.annotate(weight_total=_weights(done=None), weight_done=_weights(done=True))


def brand_public_list() -> QuerySet[Brand]:
    """Brands the public may see (cultivating, named, demonstration)."""
    return Brand.objects.filter(status__in=Brand.PUBLIC_STATUSES).select_related("organization")


# Changes whenever a brand enters or leaves the public statuses; caches of public lists key on it.
BRAND_PUBLIC_VERSION_KEY = "brand:public:version"


def brand_public_version() -> str:
    """A token that changes with every brand status transition (see ``brands.services``)."""
    return cache.get_or_set(BRAND_PUBLIC_VERSION_KEY, lambda: uuid.uuid4().hex, None)


def brand_public_cache_key(code: str) -> str:
    """Cache key of a brand's public summary; transitions delete it, so caches never outlive a status change."""
    return f"brand:public:{code}"


def brand_public_get(*, code: str) -> Brand:
    """A public brand by its code, else 404 (drafts and revoked brands do not exist for the public)."""
    try:
        return brand_public_list().get(code=code)
    except Brand.DoesNotExist:
        raise Http404 from None


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    domain: str = ""
    region: str = ""
    status: str = ""
    level: str = ""


def brand_directory(*, filters: DirectoryFilters) -> QuerySet[Brand]:
    """The public directory: search by name and text, filter by domain, region, status and level."""
    queryset = brand_public_list()
    if filters.q:
        text = Q()
        for field in ("name", "slogan", "concept", "carrier", "positioning", "organization__name"):
            text |= Q(**{f"{field}__icontains": filters.q})
        queryset = queryset.filter(text)
    if filters.domain:
        queryset = queryset.filter(organization__domain=filters.domain)
    if filters.region:
        queryset = queryset.filter(organization__region=filters.region)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.level:
        queryset = queryset.filter(level=filters.level)
    # Demonstration brands first, then named, then cultivating; by name within each.
    rank = DbCase(
        When(status=Brand.Status.DEMONSTRATION, then=Value(0)),
        When(status=Brand.Status.NAMED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return with_progress(queryset).annotate(status_rank=rank).order_by("status_rank", "name", "pk")


def region_choices() -> list[str]:
    return list(
        brand_public_list()
        .order_by()
        .values_list("organization__region", flat=True)
        .distinct()
        .order_by("organization__region")
    )


def brand_page_get(*, code: str) -> Brand:
    """A public brand with everything its page shows, loaded in a fixed number of queries."""
    brand = brand_public_get(code=code)
    return _with_programme(brand, cases=Case.objects.filter(status=Case.Status.PUBLISHED))


def _with_programme(brand: Brand, *, cases: QuerySet[Case]) -> Brand:
    brand.commitment_list = list(brand.commitments.all())
    brand.plan_obj = (
        Plan.objects.filter(brand=brand)
        .prefetch_related(
            Prefetch(
                "milestones",
                queryset=Milestone.objects.prefetch_related(
                    Prefetch("reports", queryset=ProgressReport.objects.prefetch_related("photos"))
                ),
            )
        )
        .first()
    )
    milestones = list(brand.plan_obj.milestones.all()) if brand.plan_obj else []
    total = sum(m.weight for m in milestones)
    brand.weight_total = total
    brand.weight_done = sum(m.weight for m in milestones if m.is_done)
    brand.milestone_list = milestones
    brand.overdue_list = [m for m in milestones if m.is_overdue]
    brand.case_list = list(cases.filter(brand=brand))
    return brand


# --- Scoped reads for the workspace, dashboard and API ----------------------


def brand_list_for(*, user, action: rules.Action) -> QuerySet[Brand]:
    return with_progress(
        Brand.objects.filter(rules.scope(user, action)).select_related("organization").order_by("name", "pk")
    )


def brand_get_for(*, user, action: rules.Action, code: str) -> Brand:
    """A brand the user may act on, else 404 (same answer as a brand that does not exist)."""
    try:
        return Brand.objects.select_related("organization").get(rules.scope(user, action), code=code)
    except Brand.DoesNotExist:
        raise Http404 from None


def brand_workspace_get(*, user, code: str, action: rules.Action = rules.Action.MANAGE) -> Brand:
    brand = brand_get_for(user=user, action=action, code=code)
    brand = _with_programme(brand, cases=Case.objects.all())
    brand.transition_list = list(brand.transitions.select_related("actor"))
    return brand


def brand_visible_list(*, user) -> QuerySet[Brand]:
    """Public brands for anyone, plus the private ones of organizations the user may see (API list)."""
    queryset = Brand.objects.select_related("organization").order_by("name", "pk")
    if not rules.is_unrestricted(user):
        # (An empty Q, the superuser's scope, would vanish from an OR; hence the branch.)
        queryset = queryset.filter(Q(status__in=Brand.PUBLIC_STATUSES) | rules.scope(user, rules.Action.VIEW))
    return with_progress(queryset)


def brand_with_progress_get(*, pk: int) -> Brand:
    """A brand just written by a service, re-read with its progress for the response."""
    return with_progress(Brand.objects.filter(pk=pk)).select_related("organization").get()


def recent_decisions(*, user, limit: int = 20) -> QuerySet[Brand]:
    """Brands in the reviewer's subtree that have been decided on, most recently changed first."""
    return (
        brand_list_for(user=user, action=rules.Action.REVIEW)
        .exclude(status__in=(Brand.Status.DRAFT, Brand.Status.SUBMITTED))
        .order_by("-updated_at")[:limit]
    )


def review_queue(*, user) -> QuerySet[Brand]:
    return brand_list_for(user=user, action=rules.Action.REVIEW).filter(status=Brand.Status.SUBMITTED)


def overdue_milestones_for(*, user, action: rules.Action) -> QuerySet[Milestone]:
    return (
        Milestone.objects.filter(rules.scope(user, action))
        .filter(completed_on__isnull=True, due_date__lt=timezone.localdate())
        .select_related("plan__brand")
    )


# The lookups by id below scope each row by its own (denormalized) organization, and by its
# brand when one is given; a row outside the user's reach is a 404, like a row that does not exist.


def commitment_get_for(
    *, user, pk, brand: Brand | None = None, action: rules.Action = rules.Action.MANAGE
) -> Commitment:
    queryset = Commitment.objects.filter(rules.scope(user, action)).select_related("organization")
    if brand is not None:
        queryset = queryset.filter(brand=brand)
    try:
        return queryset.get(pk=pk)
    except (Commitment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def milestone_get_for(*, user, brand: Brand, pk, action: rules.Action = rules.Action.MANAGE) -> Milestone:
    try:
        return Milestone.objects.select_related("organization").get(rules.scope(user, action), plan__brand=brand, pk=pk)
    except (Milestone.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _visible(user, *, brand_field: str) -> Q:
    """Child rows anyone may read (their brand is public) or the user may VIEW (by the row's organization)."""
    if rules.is_unrestricted(user):  # an empty Q, the superuser's scope, would vanish from the OR
        return Q()
    return Q(**{f"{brand_field}__status__in": Brand.PUBLIC_STATUSES}) | rules.scope(user, rules.Action.VIEW)


def commitments_visible(*, user, brand: Brand) -> QuerySet[Commitment]:
    return Commitment.objects.filter(_visible(user, brand_field="brand"), brand=brand)


def plan_visible_get(*, user, brand: Brand) -> Plan:
    """The brand's plan with its milestones, else 404 (no plan yet, or out of reach)."""
    try:
        return Plan.objects.prefetch_related("milestones").get(_visible(user, brand_field="brand"), brand=brand)
    except Plan.DoesNotExist:
        raise Http404 from None


def milestones_visible(*, user, brand: Brand) -> QuerySet[Milestone]:
    return Milestone.objects.filter(_visible(user, brand_field="plan__brand"), plan__brand=brand)


def milestone_visible_get(*, user, brand: Brand, pk) -> Milestone:
    """A milestone of a public brand for anyone, of a private one only within the user's VIEW scope."""
    try:
        return milestones_visible(user=user, brand=brand).get(pk=pk)
    except (Milestone.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def case_get_for(*, user, brand: Brand, pk, action: rules.Action = rules.Action.MANAGE) -> Case:
    try:
        return Case.objects.get(rules.scope(user, action), brand=brand, pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def cases_awaiting(*, user) -> QuerySet[Case]:
    return Case.objects.filter(rules.scope(user, rules.Action.REVIEW), status=Case.Status.SUBMITTED).select_related(
        "brand__organization"
    )


def case_reviewable_get(*, user, pk) -> Case:
    try:
        return cases_awaiting(user=user).get(pk=pk)
    except (Case.DoesNotExist, ValueError):
        raise Http404 from None


def case_public_list(*, domain: str = "") -> QuerySet[Case]:
    queryset = Case.objects.filter(
        status=Case.Status.PUBLISHED, brand__status__in=Brand.PUBLIC_STATUSES
    ).select_related("brand__organization")
    if domain:
        queryset = queryset.filter(brand__organization__domain=domain)
    return queryset.order_by("-published_at", "-pk")


def case_public_get(*, pk) -> Case:
    try:
        return case_public_list().get(pk=pk)
    except (Case.DoesNotExist, ValueError):
        raise Http404 from None


def transitions_for(*, brand: Brand) -> QuerySet[BrandTransition]:
    return brand.transitions.select_related("actor")


def brand_featured(*, limit: int = 6) -> list[Brand]:
    """Brands for the home page: demonstration brands first, then named ones."""
    # "demonstration" sorts before "named", so the status column orders them as wanted.
    queryset = brand_public_list().filter(status__in=(Brand.Status.DEMONSTRATION, Brand.Status.NAMED))
    return list(with_progress(queryset).order_by("status", "name", "pk")[:limit])


# --- uploaded images: whose are they ------------------------------------------------------------

# Where brands.models stores its images (upload_to), longest prefix first: the model and the column
# that names a file under it, and the path from that row to the brand's status.
BRAND_MEDIA = (
    ("brands/logos/small/", Brand, "logo_small", "status"),
    ("brands/logos/", Brand, "logo", "status"),
    ("brands/covers/medium/", Brand, "cover_medium", "status"),
    ("brands/covers/", Brand, "cover", "status"),
    ("brands/photos/thumbs/", ReportPhoto, "thumbnail", "report__milestone__plan__brand__status"),
    ("brands/photos/", ReportPhoto, "image", "report__milestone__plan__brand__status"),
)


def brand_media_owner(*, name: str) -> tuple[str, str] | None:
    """(brand status, organization path) of the brand whose image this is, in one query; None if no
    brand row names the file (a replaced image, a stray file)."""
    for prefix, model, column, status in BRAND_MEDIA:
        if name.startswith(prefix):
            return model.objects.filter(**{column: name}).values_list(status, "organization__path").first()
    return None


def case_adoptions(*, case: Case, user) -> list:
    """The public brands that adopted a case, each with ``note_visible``: the note is for the adopter's
    organization and the reviewers above it."""
    adoptions = list(
        case.adoptions.filter(brand__status__in=Brand.PUBLIC_STATUSES).select_related("brand", "organization")
    )
    for adoption in adoptions:
        adoption.note_visible = bool(adoption.note) and rules.can(user, rules.Action.VIEW, adoption.organization)
    return adoptions
