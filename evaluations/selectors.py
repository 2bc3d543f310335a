"""Reads over evaluations and rectifications, each scoped by organizations.rules."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from brands.models import Brand
from brands.selectors import brand_public_cache_key, brand_public_get
from evaluations import integrity
from evaluations.models import CommentStatus, Evaluation, Rectification
from organizations import rules
from organizations.models import Membership
from organizations.rules import Action

REVIEW_QUEUE = Q(is_overdue=True) | Q(status__in=[Rectification.Status.ESCALATED, Rectification.Status.APPEALED])


BRAND_CACHE_SECONDS = 30


_NOT_FETCHED = object()


def brand_cache_key(code: str) -> str:
    return brand_public_cache_key(code)


def brand_for_rating(*, code: str, prefetched=_NOT_FETCHED) -> Brand:
    """The public brand to rate, from a 30-second cache (the submit path's only read), else 404.

    Every status change deletes the entry (``brands.services``), so a revoked
    brand stops taking ratings at once; its organization and id never change. ``prefetched`` is the cache value when the
    caller already read it (see ``integrity.count_submission``).
    """
    key = brand_cache_key(code)
    cached = integrity.fast_get_json(key) if prefetched is _NOT_FETCHED else prefetched
    if cached is None:
        try:
            brand = brand_public_get(code=code)
        except Http404:
            integrity.fast_set_json(key, [], BRAND_CACHE_SECONDS)
            raise
        cached = [brand.pk, brand.organization_id, brand.status, brand.name]
        integrity.fast_set_json(key, cached, BRAND_CACHE_SECONDS)
    if not cached:
        raise Http404
    pk, organization_id, status, name = cached
    return Brand(pk=pk, organization_id=organization_id, status=status, name=name, code=code)


def evaluation_get_by_receipt(*, receipt: str) -> Evaluation:
    """The rating behind a receipt; the receipt is the rater's only key, so no other check applies."""
    try:
        return Evaluation.objects.select_related("brand", "rectification").get(receipt=receipt.strip().upper())
    except Evaluation.DoesNotExist:
        raise Http404 from None


def evaluation_rectification(evaluation: Evaluation) -> Rectification | None:
    try:
        return evaluation.rectification
    except Rectification.DoesNotExist:
        return None


def brand_published_comments(*, brand: Brand, limit: int = 20) -> QuerySet[Evaluation]:
    """Comments a moderator has published, newest first, for the public brand page."""
    return brand.evaluations.filter(comment_status=CommentStatus.PUBLISHED).order_by("-created_at")[:limit]


def rectification_list(*, user, action: Action = Action.VIEW) -> QuerySet[Rectification]:
    return (
        Rectification.objects.filter(rules.scope(user, action))
        .select_related("brand", "organization", "evaluation")
        .order_by("due_on", "id")
    )


def rectification_get(*, user, pk, action: Action = Action.VIEW) -> Rectification:
    """A rectification the user may act on, else 404 (the same answer as one that does not exist)."""
    try:
        return rectification_list(user=user, action=action).get(pk=pk)
    except (Rectification.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def rectification_review_queue(*, user) -> QuerySet[Rectification]:
    """What a reviewer must act on: overdue, escalated, and appealed rectifications in the subtree."""
    return rectification_list(user=user, action=Action.REVIEW).filter(REVIEW_QUEUE)


OPEN_RECTIFICATION = Q(rectifications__status__in=[*Rectification.AWAITING_RESPONSE, Rectification.Status.RESPONDED])
OVERDUE_RECTIFICATION = Q(rectifications__is_overdue=True, rectifications__status__in=Rectification.AWAITING_RESPONSE)


def brands_with_rectification_counts(queryset: QuerySet[Brand]) -> QuerySet[Brand]:
    """Annotate ``open_rectifications`` and ``overdue_rectifications`` (one query for a whole list)."""
    return queryset.annotate(
        open_rectifications=Count("rectifications", filter=OPEN_RECTIFICATION),
        overdue_rectifications=Count("rectifications", filter=OVERDUE_RECTIFICATION),
    )


def brands_managed_public(*, user) -> QuerySet[Brand]:
    """Public brands of the organizations the user manages, for their posters and QR codes."""
    queryset = Brand.objects.filter(rules.scope(user, Action.MANAGE), status__in=Brand.PUBLIC_STATUSES)
    return brands_with_rectification_counts(queryset).order_by("name")


def rectification_counts_for_brand(*, brand: Brand) -> dict[str, int]:
    """Counts for one brand; free when the brand came annotated from ``brands_with_rectification_counts``."""
    if hasattr(brand, "open_rectifications"):
        return {"open": brand.open_rectifications, "overdue": brand.overdue_rectifications}
    return brand.rectifications.aggregate(
        open=Count("pk", filter=Q(status__in=[*Rectification.AWAITING_RESPONSE, Rectification.Status.RESPONDED])),
        overdue=Count("pk", filter=Q(is_overdue=True, status__in=Rectification.AWAITING_RESPONSE)),
    )


def review_counts(*, user) -> dict[str, int]:
    return Rectification.objects.filter(rules.scope(user, Action.REVIEW)).aggregate(
        overdue=Count("pk", filter=Q(is_overdue=True, status__in=Rectification.AWAITING_RESPONSE)),
        escalated=Count("pk", filter=Q(status=Rectification.Status.ESCALATED)),
        appealed=Count("pk", filter=Q(status=Rectification.Status.APPEALED)),
    )


# --- moderation -------------------------------------------------------------------


def _moderation_scope(user) -> Q:
    """Reviewers over the organization, and secretaries of a superior organization (not of the brand's own)."""
    condition = rules.scope(user, Action.REVIEW)
    if rules.is_unrestricted(user) or not user.is_authenticated:
        return condition
    roots = Membership.objects.filter(user=user, role__in=rules.ROLES_FOR_ACTION[Action.MANAGE]).values_list(
        "organization__path", flat=True
    )
    for root in roots:
        condition |= Q(organization__path__startswith=root) & ~Q(organization__path=root)
    return condition


def can_moderate(user, evaluation: Evaluation) -> bool:
    return Evaluation.objects.filter(_moderation_scope(user), pk=evaluation.pk).exists()


def evaluation_moderation_get(*, user, pk) -> Evaluation:
    try:
        return Evaluation.objects.filter(_moderation_scope(user)).select_related("brand").get(pk=pk)
    except (Evaluation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def comments_awaiting_moderation(*, user) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(_moderation_scope(user))
        .filter(comment_status__in=[CommentStatus.PENDING, CommentStatus.HELD])
        .select_related("brand")
        .order_by("created_at", "id")
    )


def evaluations_flagged(*, user) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(rules.scope(user, Action.REVIEW), state=Evaluation.State.FLAGGED)
        .select_related("brand")
        .order_by("-created_at", "-id")
    )


def evaluation_flagged_get(*, user, pk) -> Evaluation:
    try:
        return evaluations_flagged(user=user).get(pk=pk)
    except (Evaluation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
