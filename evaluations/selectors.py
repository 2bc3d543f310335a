"""Reads over evaluations and rectifications, each scoped by organizations.rules."""

from dataclasses import dataclass

from django.db.models import Case, Count, F, Q, QuerySet, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from brands.models import Brand
from brands.selectors import brand_get_for, brand_public_cache_key, brand_public_get
from evaluations import fastpath, policy
from evaluations.filters import RectificationFilter
from evaluations.models import CommentStatus, Evaluation, HoldReason, RatingCodeBatch, Rectification, Surge
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
    cached = fastpath.get_json(key) if prefetched is _NOT_FETCHED else prefetched
    if cached is None:
        try:
            brand = brand_public_get(code=code)
        except Http404:
            fastpath.set_json(key, [], BRAND_CACHE_SECONDS)
            raise
        cached = [brand.pk, brand.organization_id, brand.status, brand.name]
        fastpath.set_json(key, cached, BRAND_CACHE_SECONDS)
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


def rectification_list_filtered(*, user, data, queue: bool = False) -> RectificationFilter:
    """The rectifications the user may view (``queue``: the reviewer's queue instead), filtered by ``data``:
    status, and organization among those in the user's scope. ``.qs`` has the rows (none while the filter
    is invalid: check ``is_valid()``), ``.form`` the filter form with its errors."""
    action = Action.REVIEW if queue else Action.VIEW
    rows = rectification_review_queue(user=user) if queue else rectification_list(user=user, action=action)
    return RectificationFilter(data, queryset=rows, organizations=rules.organizations_for(user, action))


def brands_with_rectification_counts(queryset: QuerySet[Brand]) -> QuerySet[Brand]:
    """Annotate ``open_rectifications`` and ``overdue_rectifications`` (one query for a whole list)."""
    return queryset.annotate(
        open_rectifications=Count("rectifications", filter=policy.rectification_open_q("rectifications__")),
        overdue_rectifications=Count("rectifications", filter=policy.rectification_overdue_q("rectifications__")),
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
        open=Count("pk", filter=policy.rectification_open_q()),
        overdue=Count("pk", filter=policy.rectification_overdue_q()),
    )


def review_counts(*, user) -> dict[str, int]:
    return Rectification.objects.filter(rules.scope(user, Action.REVIEW)).aggregate(
        overdue=Count("pk", filter=policy.rectification_overdue_q()),
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


# --- the rater's receipt: where a rating stands, in plain words ---------------------------------

RECEIPT_STATUSES = [
    ("counted", gettext_lazy("Counted")),
    ("held", gettext_lazy("Held for review")),
    ("repeat", gettext_lazy("Repeat: not counted again")),
    ("excluded", gettext_lazy("Not counted")),
]


@dataclass(frozen=True)
class Standing:
    status: str  # one of RECEIPT_STATUSES
    reasons: list[tuple[str, str]]  # (code, plain words) of a hold
    message: str  # what happened, for the rater
    advice: str  # what the rater can do, "" if nothing is needed


def receipt_standing(evaluation: Evaluation) -> Standing:
    """Whether the rating counted, is held for review (and why), was a repeat, or was excluded; and what to do."""
    code_advice = _("A rating made with a rating code from the service point counts at once.")
    if evaluation.state == Evaluation.State.COUNTED:
        message = (
            _("Your rating counts. It was verified with a rating code.")
            if evaluation.verified
            else _("Your rating counts.")
        )
        return Standing("counted", [], message, "")
    if evaluation.state == Evaluation.State.FLAGGED:
        # A note from before reasons were codes is for reviewers; the rater gets a general line.
        reasons = [
            (code, words if code in HoldReason.values else _("it needs a second look"))
            for code, words in evaluation.hold_reasons
        ]
        message = _(
            "Your rating is stored and held for review; it does not count yet. A reviewer decides whether it counts."
        )
        return Standing("held", reasons, message, code_advice)
    if evaluation.state_reason.startswith("repeat"):
        return Standing(
            "repeat",
            [],
            _("You already rated this service today on this device: this rating is stored, but not counted again."),
            _("You can rate it again tomorrow. %(code_advice)s") % {"code_advice": code_advice},
        )
    if evaluation.surge_id:
        message = _("Your rating is stored but does not count: a reviewer judged the day's surge not genuine.")
    else:
        message = _("Your rating is stored but does not count, after a review.")
    return Standing("excluded", [], message, code_advice)


# --- rating codes and surges ------------------------------------------------------------------


def rating_code_brand_get(*, user, code: str) -> Brand:
    """A brand whose rating codes the user may issue (secretaries and staff of its organization), else 404."""
    return brand_get_for(user=user, action=Action.MANAGE, code=code)


def rating_code_batches(*, brand: Brand, limit: int = 20) -> QuerySet[RatingCodeBatch]:
    """The audit of issued codes, newest first, with how many of each batch were used."""
    return (
        brand.rating_code_batches.select_related("issued_by")
        .annotate(used=Count("codes", filter=Q(codes__used_at__isnull=False)))
        .order_by("-created_at", "-id")[:limit]
    )


def surge_list(*, user) -> QuerySet[Surge]:
    """Surges in the reviewer's subtree, open first, with how many ratings each holds or held."""
    return (
        Surge.objects.filter(rules.scope(user, Action.REVIEW))
        .select_related("brand", "organization", "decided_by")
        .annotate(held=Count("evaluations"))
        .order_by(Case(When(status=Surge.Status.OPEN, then=0), default=1), "-day", "-id")
    )


def surge_get(*, user, pk: int) -> Surge:
    try:
        return surge_list(user=user).get(pk=pk)
    except Surge.DoesNotExist:
        raise Http404 from None


def surge_evidence(*, surge: Surge) -> dict:
    """What the reviewer needs to judge a surge: the day's ratings by hour, networks, devices and grades."""
    day_ratings = Evaluation.objects.filter(brand_id=surge.brand_id, rated_on=surge.day, verified=False)
    held = surge.evaluations.all()
    by_hour = {hour: 0 for hour in range(24)}
    for created_at in held.values_list("created_at", flat=True):
        by_hour[timezone.localtime(created_at).hour] += 1
    grades = dict(held.values_list("overall").annotate(n=Count("pk")).values_list("overall", "n"))
    return {
        "day_total": day_ratings.count(),
        "held": held.count(),
        "addresses": held.values("ip_hash").distinct().count(),
        "devices": held.values("device_hash").distinct().count(),
        "by_hour": [(hour, n) for hour, n in by_hour.items() if n],
        "grades": [(grade, grades.get(grade, 0)) for grade in (5, 4, 3, 2, 1)],
        "with_comment": held.exclude(comment="").count(),
        "with_contact": held.exclude(contact="").count(),
    }


# --- a brand's rectification record, for the reviewer's decision page ---------------------------------


def rectification_record(*, brand: Brand) -> dict[str, int]:
    """How the brand's organization has handled its bad reviews, in one aggregate query.

    ``on_time``: answered by the due date (local date of the response); ``overdue``: a response is owed
    past its due date now; ``ever_overdue``: marked overdue at some point (a reopening starts afresh);
    ``reopened``: the rater said the problem was not solved; ``open``: not finished yet.
    """
    record = brand.rectifications.aggregate(
        total=Count("pk"),
        on_time=Count("pk", filter=Q(responded_at__isnull=False, responded_at__date__lte=F("due_on"))),
        overdue=Count("pk", filter=policy.rectification_overdue_q()),
        ever_overdue=Count("pk", filter=Q(is_overdue=True)),
        reopened=Count("pk", filter=Q(reopen_count__gt=0)),
        open=Count("pk", filter=policy.rectification_open_q()),
    )
    return {key: value or 0 for key, value in record.items()}
