"""Every write on brands: filing, the review workflow, commitments, plans, reports and cases.

Each function is keyword-only, runs in one transaction, checks the caller
through ``organizations.rules`` and raises ``ApplicationError`` with a message
meant for the person at the keyboard when the request cannot be honoured.
"""

import secrets
from collections.abc import Iterable, Sequence
from functools import partial

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from brands.images import NormalizedImage
from brands.models import (
    MILESTONE_WEIGHT_MAX,
    PLAN_YEARS,
    Brand,
    BrandTransition,
    Case,
    CaseAdoption,
    Commitment,
    Milestone,
    Plan,
    ProgressReport,
    ReportPhoto,
)
from brands.selectors import BRAND_PUBLIC_VERSION_KEY, brand_public_cache_key
from config import pagecache
from config.errors import ApplicationError, Conflict, NotAllowed
from organizations import rules
from organizations.audit import audit_changes, audit_record
from organizations.models import Organization
from organizations.selectors import notice_recipients_managing, notice_recipients_reviewing
from organizations.services import notices_write

S = Brand.Status

# No 0/O, 1/I/L: codes are read aloud and typed from posters.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
CODE_ATTEMPTS = 8

EDITABLE_STATUSES = (S.DRAFT, S.RETURNED)
BRAND_FIELDS = ("name", "slogan", "concept", "carrier", "positioning", "service_targets", "level")

# The one transition table: decision → (statuses it may start from, status it leads to).
# "submit" belongs to the brand's organization; every other decision to a reviewer above it.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": ((S.DRAFT, S.RETURNED), S.SUBMITTED),
    "return": ((S.SUBMITTED,), S.RETURNED),
    "approve": ((S.SUBMITTED,), S.CULTIVATING),
    "name": ((S.CULTIVATING,), S.NAMED),
    "demonstrate": ((S.NAMED,), S.DEMONSTRATION),
    "revoke": ((S.CULTIVATING, S.NAMED, S.DEMONSTRATION), S.REVOKED),
}
REVIEW_DECISIONS = ("return", "approve", "name", "demonstrate", "revoke")
COMMENT_REQUIRED = ("return", "name", "demonstrate", "revoke")
# Naming and demonstration status are public honours: the page asks the reviewer to confirm them.
CONFIRM_REQUIRED = ("name", "demonstrate")
MAX_PHOTOS = 9


def decision_label(decision: str) -> str:
    return {
        "submit": _("Submit for review"),
        "return": _("Return with comments"),
        "approve": _("Approve (cultivating)"),
        "name": _("Name the brand"),
        "demonstrate": _("Make it a demonstration brand"),
        "revoke": _("Revoke"),
    }[decision]


def comment_missing_message(decision: str) -> str:
    """What to ask for when a decision in COMMENT_REQUIRED comes without a comment."""
    return {
        "return": _("Say what should be changed."),
        "name": _("Say why the brand deserves to be named."),
        "demonstrate": _("Say why the brand should become a demonstration brand."),
        "revoke": _("Give the reason for revoking."),
    }[decision]


def decisions_available(*, brand: Brand) -> list[str]:
    """Review decisions legal from the brand's current status (for buttons and forms)."""
    return [d for d in REVIEW_DECISIONS if brand.status in TRANSITIONS[d][0]]


def brand_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def _require_manage(user, organization: Organization) -> None:
    rules.require(user, rules.Action.MANAGE, organization)
    # Every write of a secretary's passes here: the public pages showing brands render afresh after it.
    pagecache.changed("brands")


def _apply_images(brand: Brand, *, logo: NormalizedImage | None, cover: NormalizedImage | None) -> None:
    """Store the new images on the brand; the files they replace are deleted once the change commits."""
    replaced = []
    for original, display, image in (("logo", "logo_small", logo), ("cover", "cover_medium", cover)):
        if image is None:
            continue
        for field, content in ((original, image.original), (display, image.display)):
            file = getattr(brand, field)
            if file.name:
                replaced.append((file.storage, file.name))
            file.save(content.name, content, save=False)
    if replaced:
        transaction.on_commit(partial(_delete_files, replaced))


def _delete_files(files: list) -> None:
    for storage, name in files:
        storage.delete(name)


def _clean_targets(targets: Iterable[str]) -> list[str]:
    valid = Brand.ServiceTarget.values
    cleaned = [t for t in valid if t in set(targets)]  # canonical order, no duplicates
    unknown = set(targets) - set(valid)
    if unknown:
        raise ApplicationError(_("Unknown service target: %s") % ", ".join(sorted(unknown)), field="service_targets")
    return cleaned


def brand_create(
    *,
    user,
    organization: Organization,
    data: dict,
    logo: NormalizedImage | None = None,
    cover: NormalizedImage | None = None,
) -> Brand:
    """File a new draft brand for an organization the user manages, with a fresh public code."""
    if not rules.can(user, rules.Action.MANAGE, organization):
        raise ApplicationError(_("You can only file brands for organizations you manage."), field="organization")
    fields = {key: data[key] for key in BRAND_FIELDS if key in data}
    fields["service_targets"] = _clean_targets(fields.get("service_targets", []))
    brand = Brand(organization=organization, status=S.DRAFT, **fields)
    _apply_images(brand, logo=logo, cover=cover)
    for _attempt in range(CODE_ATTEMPTS):
        brand.code = brand_code_new()
        try:
            with transaction.atomic():  # a savepoint, so a code collision can be retried
                brand.save()
                audit_record(actor=user, action="brand.create", target=brand, after={"status": brand.status})
            return brand
        except IntegrityError:
            if not Brand.objects.filter(code=brand.code).exists():
                raise
    raise ApplicationError(_("Could not allocate a brand code; please try again."))


@transaction.atomic
def brand_update(
    *,
    user,
    brand: Brand,
    data: dict,
    logo: NormalizedImage | None = None,
    cover: NormalizedImage | None = None,
) -> Brand:
    _require_manage(user, brand.organization)
    brand = Brand.objects.select_for_update().get(pk=brand.pk)
    if brand.status not in EDITABLE_STATUSES:
        raise ApplicationError(
            _("A brand can only be edited while it is a draft or returned; this one is “%s”.")
            % brand.get_status_display()
        )
    before = {key: getattr(brand, key) for key in BRAND_FIELDS}
    for key in BRAND_FIELDS:
        if key in data:
            setattr(brand, key, data[key])
    brand.service_targets = _clean_targets(brand.service_targets)
    _apply_images(brand, logo=logo, cover=cover)
    brand.save()
    after = {key: getattr(brand, key) for key in BRAND_FIELDS}
    after |= {name: "new" for name, image in (("logo", logo), ("cover", cover)) if image is not None}
    before, after = audit_changes(before, after)
    audit_record(actor=user, action="brand.update", target=brand, before=before, after=after)
    return brand


def _transition(*, user, brand: Brand, decision: str, comment: str) -> Brand:
    allowed_from, to_status = TRANSITIONS[decision]
    if brand.status not in allowed_from:
        raise ApplicationError(
            _("“%(decision)s” is not possible for a brand that is “%(status)s”.")
            % {"decision": decision_label(decision), "status": brand.get_status_display()},
            code="illegal_transition",
        )
    if decision in COMMENT_REQUIRED and not comment.strip():
        raise ApplicationError(comment_missing_message(decision), field="comment")
    from_status = brand.status
    brand.status = to_status
    brand.save(update_fields=["status", "updated_at"])
    transition = BrandTransition.objects.create(
        brand=brand,
        organization_id=brand.organization_id,
        actor=user,
        decision=decision,
        from_status=from_status,
        to_status=to_status,
        comment=comment,
    )
    audit_record(
        actor=user,
        action=f"brand.{decision}",
        target=brand,
        before={"status": from_status},
        after={"status": to_status},
        detail=comment,
    )
    # The rating endpoint caches whether a brand is public; a revoked brand must stop taking ratings at once.
    transaction.on_commit(partial(cache.delete, brand_public_cache_key(brand.code)))
    transaction.on_commit(partial(cache.delete, BRAND_PUBLIC_VERSION_KEY))
    pagecache.changed("brands")
    _notices_write(brand, transition)
    return brand


def _notices_write(brand: Brand, transition: BrandTransition) -> None:
    """Tell the other side of a decision, in its transaction: a submission goes to the reviewers who may
    decide on it (their review page), every decision back to the organization's secretaries and staff
    (their brand page)."""
    if transition.decision == "submit":
        recipients = notice_recipients_reviewing(organization=brand.organization)
        path = reverse("dashboard-brand", args=[brand.code])
    else:
        recipients = notice_recipients_managing(organization_id=brand.organization_id)
        path = reverse("workspace-brand", args=[brand.code])
    notices_write(
        recipients=recipients,
        kind=f"brand_{transition.decision}",
        key=f"brand-transition:{transition.pk}",
        template="brands/mail/decision",
        context={"brand": brand, "transition": transition},
        path=path,
    )


@transaction.atomic
def brand_submit(*, user, brand: Brand, comment: str = "") -> Brand:
    """The organization sends its draft (or returned) brand to the reviewers above it."""
    _require_manage(user, brand.organization)
    brand = Brand.objects.select_for_update().select_related("organization").get(pk=brand.pk)
    if brand.status in EDITABLE_STATUSES and not brand.concept.strip():
        raise ApplicationError(_("Describe the brand's concept before submitting it."), field="concept")
    return _transition(user=user, brand=brand, decision="submit", comment=comment)


@transaction.atomic
def brand_review(*, user, brand: Brand, decision: str, comment: str = "") -> Brand:
    """A reviewer above the brand's organization returns, approves, names, promotes or revokes it."""
    if decision not in REVIEW_DECISIONS:
        raise ApplicationError(
            _("Unknown decision “%(decision)s”; use one of: %(choices)s.")
            % {"decision": decision, "choices": ", ".join(REVIEW_DECISIONS)},
            field="decision",
        )
    brand = Brand.objects.select_for_update().select_related("organization").get(pk=brand.pk)
    if not rules.can(user, rules.Action.REVIEW, brand.organization):
        raise NotAllowed(_("Only reviewers above this organization may decide on its brand."))
    if rules.can(user, rules.Action.MANAGE, brand.organization) and not user.is_superuser:
        raise NotAllowed(_("You manage this organization, so you cannot decide on its brand; another reviewer must."))
    return _transition(user=user, brand=brand, decision=decision, comment=comment)


# --- Commitments -------------------------------------------------------------


@transaction.atomic
def commitment_add(*, user, brand: Brand, text: str) -> Commitment:
    _require_manage(user, brand.organization)
    last = brand.commitments.order_by("-position").values_list("position", flat=True).first()
    commitment = Commitment.objects.create(
        brand=brand, organization_id=brand.organization_id, text=text, position=(last or 0) + 1
    )
    audit_record(actor=user, action="commitment.add", target=commitment, after={"text": text})
    return commitment


@transaction.atomic
def commitment_update(*, user, commitment: Commitment, text: str) -> Commitment:
    _require_manage(user, commitment.organization)
    before = {"text": commitment.text}
    commitment.text = text
    commitment.save(update_fields=["text"])
    audit_record(actor=user, action="commitment.update", target=commitment, before=before, after={"text": text})
    return commitment


@transaction.atomic
def commitment_delete(*, user, commitment: Commitment) -> None:
    _require_manage(user, commitment.organization)
    audit_record(actor=user, action="commitment.delete", target=commitment, before={"text": commitment.text})
    commitment.delete()


@transaction.atomic
def commitment_move(*, user, commitment: Commitment, step: int) -> None:
    """Move one place up (-1) or down (+1); positions are renumbered 1..n."""
    _require_manage(user, commitment.organization)
    items = list(Commitment.objects.select_for_update().filter(brand_id=commitment.brand_id))
    index = next(i for i, item in enumerate(items) if item.pk == commitment.pk)
    target = index + step
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    before = commitment.position
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])
    after = next(item.position for item in items if item.pk == commitment.pk)
    if after != before:
        audit_record(
            actor=user,
            action="commitment.move",
            target=commitment,
            before={"position": before},
            after={"position": after},
        )


# --- Plan, milestones, progress --------------------------------------------


def _check_weight(weight: int) -> None:
    if not 1 <= weight <= MILESTONE_WEIGHT_MAX:
        raise ApplicationError(
            _("The weight must be between 1 and %(max)s.") % {"max": MILESTONE_WEIGHT_MAX}, field="weight"
        )


@transaction.atomic
def plan_save(*, user, brand: Brand, start_year: int, end_year: int, goals: str) -> Plan:
    _require_manage(user, brand.organization)
    for field, year in (("start_year", start_year), ("end_year", end_year)):
        if not PLAN_YEARS[0] <= year <= PLAN_YEARS[1]:
            raise ApplicationError(
                _("Give a year from %(first)s to %(last)s.") % {"first": PLAN_YEARS[0], "last": PLAN_YEARS[1]},
                field=field,
            )
    if end_year < start_year:
        raise ApplicationError(_("The last year cannot be before the first year."), field="end_year")
    fields = ("start_year", "end_year", "goals")
    existing = Plan.objects.filter(brand=brand).values(*fields).first() or {}
    plan, _created = Plan.objects.update_or_create(
        brand=brand,
        defaults={
            "organization_id": brand.organization_id,
            "start_year": start_year,
            "end_year": end_year,
            "goals": goals,
        },
    )
    before, after = audit_changes(existing, {name: getattr(plan, name) for name in fields})
    audit_record(actor=user, action="plan.save", target=plan, before=before, after=after, label=brand.name)
    return plan


def _require_plan(brand: Brand) -> Plan:
    plan = Plan.objects.filter(brand=brand).first()
    if plan is None:
        raise ApplicationError(_("Write the plan before adding milestones."))
    return plan


@transaction.atomic
def milestone_add(*, user, brand: Brand, title: str, due_date, weight: int = 1, description: str = "") -> Milestone:
    _require_manage(user, brand.organization)
    plan = _require_plan(brand)
    _check_weight(weight)
    milestone = Milestone.objects.create(
        plan=plan,
        organization_id=brand.organization_id,
        title=title,
        due_date=due_date,
        weight=weight,
        description=description,
    )
    audit_record(
        actor=user,
        action="milestone.add",
        target=milestone,
        after={"title": title, "due_date": due_date, "weight": weight},
    )
    return milestone


@transaction.atomic
def milestone_update(*, user, milestone: Milestone, data: dict) -> Milestone:
    _require_manage(user, milestone.organization)
    fields = ("title", "description", "due_date", "weight")
    before = {key: getattr(milestone, key) for key in fields}
    for key in fields:
        if key in data:
            setattr(milestone, key, data[key])
    _check_weight(milestone.weight)
    milestone.save()
    before, after = audit_changes(before, {key: getattr(milestone, key) for key in fields})
    audit_record(actor=user, action="milestone.update", target=milestone, before=before, after=after)
    return milestone


@transaction.atomic
def milestone_set_done(*, user, milestone: Milestone, done: bool) -> Milestone:
    _require_manage(user, milestone.organization)
    before = milestone.completed_on
    milestone.completed_on = timezone.localdate() if done else None
    milestone.save(update_fields=["completed_on"])
    audit_record(
        actor=user,
        action="milestone.complete" if done else "milestone.reopen",
        target=milestone,
        before={"completed_on": before},
        after={"completed_on": milestone.completed_on},
    )
    return milestone


@transaction.atomic
def progress_report_add(
    *, user, milestone: Milestone, text: str, photos: Sequence[NormalizedImage] = ()
) -> ProgressReport:
    _require_manage(user, milestone.organization)
    if len(photos) > MAX_PHOTOS:
        raise ApplicationError(_("At most 9 photos per report."), field="photos")
    report = ProgressReport.objects.create(
        milestone=milestone, organization_id=milestone.organization_id, author=user, text=text
    )
    for photo in photos:
        row = ReportPhoto(report=report, organization_id=report.organization_id)
        row.image.save(photo.original.name, photo.original, save=False)
        row.thumbnail.save(photo.display.name, photo.display, save=False)
        row.save()
    audit_record(
        actor=user,
        action="progress_report.add",
        target=report,
        after={"milestone": milestone.pk, "photos": len(photos)},
        detail=text,
        label=milestone.title,
    )
    return report


# --- Typical experience ---------------------------------------------------


@transaction.atomic
def case_save(*, user, brand: Brand, data: dict, case: Case | None = None, submit: bool = False) -> Case:
    """Write or edit a case; ``submit`` sends it to the reviewers for publication."""
    _require_manage(user, brand.organization)
    created = case is None
    if case is None:
        case = Case(brand=brand, organization_id=brand.organization_id, author=user)
    elif case.status == Case.Status.PUBLISHED:
        raise ApplicationError(_("A published case can no longer be edited."))
    fields = ("title", "summary", "status")  # the body may be long: its edits show in the case itself
    before = {} if created else {key: getattr(case, key) for key in fields}
    for key in ("title", "summary", "body"):
        if key in data:
            setattr(case, key, data[key])
    if submit:
        case.status = Case.Status.SUBMITTED
    case.save()
    before, after = audit_changes(before, {key: getattr(case, key) for key in fields})
    action = "case.submit" if "status" in after and case.status == Case.Status.SUBMITTED else "case.save"
    audit_record(actor=user, action=action, target=case, before=before, after=after)
    return case


@transaction.atomic
def case_publish(*, user, case: Case) -> Case:
    case = Case.objects.select_for_update().select_related("brand", "organization").get(pk=case.pk)
    if not rules.can(user, rules.Action.REVIEW, case.organization):
        raise NotAllowed(_("Only reviewers above this organization may publish its cases."))
    if case.status != Case.Status.SUBMITTED:
        raise ApplicationError(_("Only a case awaiting publication can be published."))
    if not case.brand.is_public:
        raise ApplicationError(_("Cases are published only for public brands."))
    case.status = Case.Status.PUBLISHED
    case.published_by = user
    case.published_at = timezone.now()
    case.save()
    pagecache.changed("brands")
    audit_record(
        actor=user,
        action="case.publish",
        target=case,
        before={"status": Case.Status.SUBMITTED},
        after={"status": case.status},
    )
    return case


ADOPTION_NOTE_MAX = 1000


def case_adoption_refusal(*, case: Case, brand: Brand) -> str:
    """Why ``brand`` may not adopt ``case`` ("" when it may), apart from who asks and from adopting twice.

    The one statement of the rule: ``case_adopt`` raises it, and the case page offers only the brands it lets through.
    """
    if case.status != Case.Status.PUBLISHED or not case.brand.is_public:
        return _("Only a published case can be adopted.")
    if not brand.is_public:
        return _("Only a public brand (cultivating, named or demonstration) can adopt a case.")
    if brand.pk == case.brand_id:
        return _("A brand cannot adopt its own case.")
    return ""


@transaction.atomic
def case_adopt(*, user, case: Case, brand: Brand, note: str = "") -> CaseAdoption:
    """The adopting brand's organization takes up a published case of another brand (推广), once per brand."""
    # Locked, so that two requests for the same brand cannot both pass the "once" check below.
    brand = Brand.objects.select_for_update().select_related("organization").get(pk=brand.pk)
    _require_manage(user, brand.organization)
    case = Case.objects.select_related("brand").get(pk=case.pk)
    refusal = case_adoption_refusal(case=case, brand=brand)
    if refusal:
        raise ApplicationError(refusal, field="brand")
    note = (note or "").strip()
    if len(note) > ADOPTION_NOTE_MAX:
        raise ApplicationError(_("At most %(max)s characters.") % {"max": ADOPTION_NOTE_MAX}, field="note")
    already = _("“%(brand)s” has already adopted this case.") % {"brand": brand.name}
    if CaseAdoption.objects.filter(case=case, brand=brand).exists():
        raise Conflict(already, field="brand", code="already_adopted")
    try:
        with transaction.atomic():  # a savepoint: the unique constraint is the last word under a race
            adoption = CaseAdoption.objects.create(
                case=case, brand=brand, organization_id=brand.organization_id, adopted_by=user, note=note
            )
            audit_record(
                actor=user,
                action="case.adopt",
                target=adoption,
                after={"case": case.pk, "brand": brand.code},
                detail=note,
                label=f"{brand.name} ← {case.title}",
            )
            return adoption
    except IntegrityError:
        raise Conflict(already, field="brand", code="already_adopted") from None
