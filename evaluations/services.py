"""Writes over evaluations: submission, moderation, rectifications and notifications."""

import contextlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from brands.models import Brand
from config import pagecache
from config.errors import ApplicationError, Conflict, NotFound
from evaluations import integrity, policy, refresh, surges
from evaluations.models import (
    BAD_GRADES,
    CommentStatus,
    Evaluation,
    EvaluationStateChange,
    HoldReason,
    RatingCode,
    RatingCodeBatch,
    Rectification,
    RectificationEvent,
    Surge,
)
from evaluations.workdays import add_working_days
from organizations.audit import audit_record
from organizations.selectors import notice_recipients_managing
from organizations.services import notices_write

RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed from paper
RECEIPT_LENGTH = 16  # 31**16 ≈ 2**79: unguessable


REPEAT_REASON = "repeat: this device already rated this brand today"


@transaction.atomic
def evaluation_change_state(*, evaluation: Evaluation, to_state: str, reason: str, actor=None) -> Evaluation:
    """The only way an evaluation's state changes (flag, restore, exclude), always with an audit row.

    Scores read the audit rows to fold state changes in incrementally, so a state
    must never be changed any other way. Restoring a rating to "counted" is refused
    when the same device already has a counted rating of the brand that day.
    """
    if to_state not in Evaluation.State.values:
        raise ApplicationError(f"Unknown state: {to_state}", field="state")
    locked = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    if locked.state == to_state:
        return locked
    from_state = locked.state
    locked.state = to_state
    locked.state_reason = reason
    try:
        with transaction.atomic():
            locked.save(update_fields=["state", "state_reason"])
    except IntegrityError:
        raise ApplicationError(
            _("This device already has a counted rating of this brand on that day."), field="state"
        ) from None
    EvaluationStateChange.objects.create(
        evaluation=locked,
        brand_id=locked.brand_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        actor=actor,
    )
    audit_record(
        actor=actor,
        action=f"evaluation.{to_state}",
        target=locked,
        before={"state": from_state},
        after={"state": to_state},
        detail=reason,
        label=f"#{locked.pk}",
    )
    transaction.on_commit(refresh.request_refresh)
    return locked


# --- submission -------------------------------------------------------------------


# Cache keys read along with the throttle counters (one round trip): whether a score fold is pending.
SUBMIT_PREFETCH = (refresh.REFRESH_PENDING_KEY,)


def submit_prefetch(code: str) -> tuple[str, ...]:
    """Every cache key a rating of brand ``code`` reads (but the brand's own), for that one round trip."""
    return (*SUBMIT_PREFETCH, *surges.prefetch_keys(code, timezone.localdate()))


@dataclass
class SubmitResult:
    evaluation: Evaluation
    # True when this device had already rated the brand today: the new rating is stored but not counted.
    already_rated: bool


def new_receipt() -> str:
    # 96 random bits from one call, spent 16 base-31 digits at a time (the rest discarded).
    number = int.from_bytes(secrets.token_bytes(12), "big")
    digits = []
    for _position in range(RECEIPT_LENGTH):
        number, index = divmod(number, len(RECEIPT_ALPHABET))
        digits.append(RECEIPT_ALPHABET[index])
    return "".join(digits)


def held_word(comment: str) -> str:
    lowered = comment.lower()
    for word in settings.EVALUATION_HOLD_WORDS:
        if word and word.lower() in lowered:
            return word
    return ""


def _hold_reasons(*, signals: integrity.ClientSignals, counts: integrity.Counts) -> list[str]:
    """Why an unverified rating is held for review rather than counted (``HoldReason`` codes), if at all."""
    reasons = list(signals.extra_flags)
    if signals.honeypot:
        reasons.append(HoldReason.BOT_FIELD)
    if not signals.form_token_valid:
        reasons.append(HoldReason.FORM_TOKEN)
    elif signals.fill_seconds is not None and signals.fill_seconds < settings.EVALUATION_MIN_FILL_SECONDS:
        reasons.append(HoldReason.TOO_FAST)
    if policy.proof_of_work_required(earlier_from_ip=counts.per_ip - 1) and not integrity.pow_verify(
        signals.pow_payload
    ):
        reasons.append(HoldReason.NO_PROOF)
    if counts.burst > settings.EVALUATION_BURST_LIMIT:
        reasons.append(HoldReason.NETWORK)
    return reasons


def _surge_hold(*, brand: Brand, today, prefetched: dict) -> Surge | None:
    """The surge that holds this unverified rating, opening one when the day's count passes the brand's threshold.

    A released surge lets the rest of the day count (it was a real event); a rejected one opens again.
    ``prefetched`` holds what the cache knew (``surges.prefetch_keys``): when it says enough, no query is made.
    """
    surge = surges.known_state(code=brand.code, today=today, prefetched=prefetched)
    if surge is surges.UNKNOWN:
        surge = Surge.objects.filter(brand_id=brand.pk, day=today).first()
        surges.remember_state(code=brand.code, today=today, surge=surge)
    if surge is not None and surge.status == Surge.Status.RELEASED:
        return None
    if surge is None:
        day, week = surges.unverified_recent(brand=brand, today=today, prefetched=prefetched)
        if week + 1 <= settings.SURGE_MIN_COUNT:
            return None
        expectation = surges.brand_expectation(brand=brand, today=today, prefetched=prefetched)
        if day + 1 <= expectation.threshold and week + 1 <= expectation.week_threshold:
            return None
        try:
            with transaction.atomic():
                surge = Surge.objects.create(
                    brand_id=brand.pk,
                    organization_id=brand.organization_id,
                    day=today,
                    expected=expectation.expected,
                    own_rate=expectation.own_rate,
                    peer_rate=expectation.peer_rate,
                    threshold=expectation.threshold,
                )
                audit_record(
                    actor=None, action="surge.open", target=surge, after={"status": surge.status}, label=str(today)
                )
        except IntegrityError:  # a concurrent rating opened it first
            surge = Surge.objects.get(brand_id=brand.pk, day=today)
        surges.remember_state(code=brand.code, today=today, surge=surge)
    if surge.status == Surge.Status.REJECTED:
        with transaction.atomic():
            if Surge.objects.filter(pk=surge.pk, status=Surge.Status.REJECTED).update(
                status=Surge.Status.OPEN, decided_by=None, decided_at=None
            ):
                audit_record(
                    actor=None,
                    action="surge.reopen",
                    target=surge,
                    before={"status": Surge.Status.REJECTED},
                    after={"status": Surge.Status.OPEN},
                    label=str(today),
                )
        surges.forget_state(code=brand.code, today=today)
    return surge


# --- rating codes (一次一评) ------------------------------------------------------------

RATING_CODE_LENGTH = 10  # 31**10 ≈ 2**50, typed from a slip in two groups of five


def rating_code_normalize(typed: str) -> str:
    """What people type or scan, as stored: letters and digits only, upper case (dashes and spaces dropped)."""
    return "".join(ch for ch in (typed or "").upper() if ch.isascii() and ch.isalnum())[:32]


def rating_code_hash(code: str) -> str:
    return integrity.salted_hash("rating-code", rating_code_normalize(code))


def rating_code_display(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def _new_rating_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _position in range(RATING_CODE_LENGTH))


@transaction.atomic
def rating_codes_issue(
    *, brand: Brand, actor, count: int, valid_days: int, channel: str = "web"
) -> tuple[RatingCodeBatch, list[str]]:
    """Issue ``count`` one-time codes for the brand, valid for ``valid_days``; returns the batch and the codes.

    The codes are shown this once (on the printable sheet or in the API response): only their hashes are kept.
    The batch row is the audit of who issued how many, when, through which channel.
    """
    if not brand.is_public:
        raise ApplicationError(_("Codes can be issued only for a brand that is open to ratings."))
    if not 1 <= count <= settings.RATING_CODE_BATCH_MAX:
        raise ApplicationError(
            _("Issue between 1 and %(max)d codes at a time.") % {"max": settings.RATING_CODE_BATCH_MAX}, field="count"
        )
    if not 1 <= valid_days <= settings.RATING_CODE_MAX_DAYS:
        raise ApplicationError(
            _("Codes can be valid for 1 to %(max)d days.") % {"max": settings.RATING_CODE_MAX_DAYS},
            field="valid_days",
        )
    expires_at = timezone.now() + timedelta(days=valid_days)
    batch = RatingCodeBatch.objects.create(
        brand=brand, issued_by=actor, count=count, expires_at=expires_at, channel=channel
    )
    codes = [_new_rating_code() for _index in range(count)]
    RatingCode.objects.bulk_create(
        RatingCode(batch=batch, brand=brand, code_hash=rating_code_hash(code), expires_at=expires_at) for code in codes
    )
    audit_record(
        actor=actor,
        action="rating_codes.issue",
        target=batch,
        organization=brand.organization_id,
        after={"count": count, "valid_days": valid_days, "channel": channel},
        label=brand.name,
    )
    return batch, codes


def _rating_code_problem(*, code_hash: str, brand: Brand) -> str:
    """Why a code cannot be used for this brand now, in words for the rater ("" if it can)."""
    found = RatingCode.objects.filter(code_hash=code_hash).values("brand_id", "used_at", "expires_at").first()
    if found is None:
        return _("This rating code is not valid. Check it against your slip, or rate without a code.")
    if found["brand_id"] != brand.pk:
        return _("This rating code belongs to another service. Rate that service with it, or rate without a code.")
    if found["used_at"] is not None:
        return _("This rating code was already used. Each code is good for one rating.")
    if found["expires_at"] <= timezone.now():
        return _("This rating code has expired. Ask the service point for a new one, or rate without a code.")
    return ""


def _rating_code_claim(*, code_hash: str, brand: Brand) -> None:
    """Mark the code used, in the caller's transaction; one UPDATE decides, so concurrent uses cannot both win."""
    claimed = RatingCode.objects.filter(
        code_hash=code_hash, brand_id=brand.pk, used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now())
    if not claimed:
        raise ApplicationError(
            _rating_code_problem(code_hash=code_hash, brand=brand)
            or _("This rating code was already used. Each code is good for one rating."),
            field="code",
        )


def evaluation_submit(
    *,
    brand: Brand,
    overall: int,
    signals: integrity.ClientSignals,
    channel: str,
    management: int | None = None,
    service: int | None = None,
    quality: int | None = None,
    rater_group: str = Evaluation.RaterGroup.MASSES,
    comment: str = "",
    contact: str = "",
    rating_code: str = "",
) -> SubmitResult:
    """Store one rating; the web form and the API both come here. Nothing a citizen sends is dropped.

    With a valid rating code the rating is *verified*: it counts on its own, past
    every network limit, and uses the code up. Without one, throttles refuse abuse
    of the server with 429; anything else doubtful is stored and held for review
    (state "flagged") with its reasons, and so is the excess of a surge. A repeat
    from the same device on the same day is stored but not counted; a database
    constraint (not a check-then-insert) decides, so concurrent repeats cannot
    both count. Every bad review that leaves a contact opens a rectification,
    whatever its state, so the branch can call back and verify it.
    """
    if not brand.is_public:
        raise NotFound(_("This brand cannot be rated."))
    comment = (comment or "").strip()
    contact = (contact or "").strip()
    problem = policy.contact_problem(overall=overall, contact=contact)
    if problem:
        raise ApplicationError(problem, field="contact")
    ip_hash = integrity.salted_hash("ip", signals.ip)
    counts = signals.counts or integrity.count_submission(
        ip=signals.ip, brand_code=brand.code, prefetch=submit_prefetch(brand.code)
    )
    code_hash = rating_code_hash(rating_code) if rating_code_normalize(rating_code) else ""
    if code_hash:
        problem = _rating_code_problem(code_hash=code_hash, brand=brand)
        if problem:
            integrity.check_throttle(counts)  # guessing codes is throttled like anything else
            raise ApplicationError(problem, field="code")
        reasons: list[str] = []
    else:
        integrity.check_throttle(counts)
        reasons = _hold_reasons(signals=signals, counts=counts)
    if comment:
        word = held_word(comment)
        comment_status, comment_reason = (
            (CommentStatus.HELD, f"contains “{word}”") if word else (CommentStatus.PENDING, "")
        )
    else:
        comment_status, comment_reason = CommentStatus.NONE, ""
    fields = dict(
        brand=brand,
        organization_id=brand.organization_id,
        overall=overall,
        management=management,
        service=service,
        quality=quality,
        rater_group=rater_group or Evaluation.RaterGroup.MASSES,
        comment=comment,
        contact=contact,
        channel=channel,
        # A code is one encounter: a counter terminal may rate many times a day, once per code.
        device_hash=(
            integrity.salted_hash("device", f"code:{code_hash}") if code_hash else integrity.device_hash_for(signals)
        ),
        ip_hash=ip_hash,
        rated_on=timezone.localdate(),
        comment_status=comment_status,
        comment_reason=comment_reason,
        verified=bool(code_hash),
    )
    refresh_pending = bool(counts.prefetched.get(refresh.REFRESH_PENDING_KEY))
    if not code_hash and not reasons:
        # Before the insert's transaction: the surge check reads the cache and may open a surge (its own
        # short transaction), and none of that should hold the rating's transaction open.
        # What the cache read with the throttle counters is the site's only while Redis answers.
        known = counts.prefetched if counts.shared else {}
        surge = _surge_hold(brand=brand, today=fields["rated_on"], prefetched=known)
        if surge is not None:
            reasons, fields["surge"] = [HoldReason.SURGE], surge
    # A rating code and a bad review write more than the rating: those need a transaction. A plain rating
    # is one statement (or a repeat's two, each complete on its own), so it saves BEGIN and COMMIT.
    needs_transaction = bool(code_hash) or overall in BAD_GRADES
    with transaction.atomic() if needs_transaction else contextlib.nullcontext():
        if code_hash:
            _rating_code_claim(code_hash=code_hash, brand=brand)
        state = Evaluation.State.FLAGGED if reasons else Evaluation.State.COUNTED
        result = _insert(fields=fields, state=state, reason=";".join(reasons)[:200], refresh_pending=refresh_pending)
        if code_hash:
            RatingCode.objects.filter(code_hash=code_hash).update(evaluation=result.evaluation)
    if not code_hash and result.evaluation.state != Evaluation.State.EXCLUDED:
        # Stored (committed: the view runs no outer transaction): one more for the surge rule's cached count.
        surges.count_unverified(code=brand.code, day=fields["rated_on"])
    return result


_COUNTED_INSERT_SQL: dict[str, tuple[str, list]] = {}


def _insert_unless_counted_exists(evaluation: Evaluation) -> bool:
    """INSERT a counted rating unless the device already has one for the brand that day.

    One statement, ``INSERT … ON CONFLICT (brand, device, day) WHERE state = 'counted'
    DO NOTHING RETURNING id``: the partial unique constraint decides, so concurrent
    repeats cannot both count, and no exception or savepoint is needed. The column
    list comes from the model, built once per database vendor (this is the submit
    path's hottest statement; the ORM's compiler costs more than the insert itself).
    """
    connection = transaction.get_connection()
    cached = _COUNTED_INSERT_SQL.get(connection.vendor)
    if cached is None:
        meta = Evaluation._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        target = ", ".join(quote(meta.get_field(name).column) for name in ("brand", "device_hash", "rated_on"))
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "
            f"ON CONFLICT ({target}) WHERE {quote('state')} = 'counted' DO NOTHING RETURNING {quote(meta.pk.column)}"
        )
        cached = _COUNTED_INSERT_SQL[connection.vendor] = (sql, fields)
    sql, fields = cached
    params = [f.get_db_prep_save(f.pre_save(evaluation, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    evaluation.pk = row[0]
    evaluation._state.adding = False
    evaluation._state.db = connection.alias
    return True


def _insert(*, fields: dict, state: str, reason: str, refresh_pending: bool = False) -> SubmitResult:
    """Insert the rating; the partial unique constraint decides whether it counts.

    A bad rating is inserted together with its rectification in one transaction.
    A repeat is stored as excluded, with the reason.
    """
    if state != Evaluation.State.COUNTED:
        evaluation = Evaluation.objects.create(receipt=new_receipt(), state=state, state_reason=reason, **fields)
        if policy.opens_rectification(evaluation):
            rectification_open(evaluation=evaluation)
        return SubmitResult(evaluation=evaluation, already_rated=False)
    evaluation = Evaluation(receipt=new_receipt(), state=state, state_reason="", **fields)
    if evaluation.is_bad:
        with transaction.atomic():
            inserted = _insert_unless_counted_exists(evaluation)
            if inserted:
                rectification_open(evaluation=evaluation)
    else:
        inserted = _insert_unless_counted_exists(evaluation)
    if inserted:
        # Only counted ratings move scores; one debounced fold follows a burst of them. In a burst
        # the fold is already pending (read with the throttle counters, so no extra round trip)
        # and will see this rating. In the rare race where that fold starts between the read and
        # this commit, the next one folds it: the beat's every 30 s, or the next submission's.
        if not refresh_pending:
            transaction.on_commit(refresh.request_refresh)
        return SubmitResult(evaluation=evaluation, already_rated=False)
    # This device already has a counted rating of the brand today: keep this one, not counted.
    repeat = Evaluation.objects.create(
        receipt=new_receipt(), state=Evaluation.State.EXCLUDED, state_reason=REPEAT_REASON, **fields
    )
    if policy.opens_rectification(repeat):
        rectification_open(evaluation=repeat)
    return SubmitResult(evaluation=repeat, already_rated=True)


# --- moderation -------------------------------------------------------------------


@transaction.atomic
def evaluation_restore(*, evaluation: Evaluation, actor, note: str = "") -> Evaluation:
    """A reviewer counts a flagged rating after all; a bad one then opens its rectification."""
    if evaluation.state != Evaluation.State.FLAGGED:
        raise ApplicationError(_("Only a flagged rating can be restored."))
    restored = evaluation_change_state(
        evaluation=evaluation,
        to_state=Evaluation.State.COUNTED,
        reason=(note or "restored by a reviewer")[:200],
        actor=actor,
    )
    if restored.is_bad and not Rectification.objects.filter(evaluation=restored).exists():
        rectification_open(evaluation=restored, actor=actor)
    return restored


@transaction.atomic
def evaluation_moderate_comment(*, evaluation: Evaluation, publish: bool, actor, note: str = "") -> Evaluation:
    if evaluation.comment_status == CommentStatus.NONE:
        raise ApplicationError(_("This rating has no comment."))
    before = evaluation.comment_status
    evaluation.comment_status = CommentStatus.PUBLISHED if publish else CommentStatus.HIDDEN
    evaluation.comment_reason = (note or ("published by %s" if publish else "hidden by %s") % actor.username)[:200]
    evaluation.save(update_fields=["comment_status", "comment_reason"])
    pagecache.changed("comments")
    audit_record(
        actor=actor,
        action="comment.publish" if publish else "comment.hide",
        target=evaluation,
        before={"comment_status": before},
        after={"comment_status": evaluation.comment_status},
        detail=note,
        label=f"#{evaluation.pk}",
    )
    return evaluation


# --- rectifications -----------------------------------------------------------------


def _event(rectification: Rectification, action: str, from_status: str, actor=None, note: str = "") -> None:
    RectificationEvent.objects.create(
        rectification=rectification,
        action=action,
        from_status=from_status,
        to_status=rectification.status,
        actor=actor,
        note=note,
    )
    audit_record(
        actor=actor,
        action=f"rectification.{action}",
        target=rectification,
        before={"status": from_status} if from_status else {},
        after={"status": rectification.status},
        detail=note,
        label=f"#{rectification.pk}",
    )


def _lock(rectification: Rectification) -> Rectification:
    return Rectification.objects.select_for_update().select_related("evaluation").get(pk=rectification.pk)


R = Rectification.Status
A = RectificationEvent.Action
# The rectification workflow: each step (named as its audit row) and the statuses it may start from,
# then the status it leads to (None: back to the status before the appeal).
RECTIFICATION_TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    A.RESPONDED: ((R.OPEN, R.REOPENED), R.RESPONDED),  # the organization answers
    A.VERDICT: ((R.RESPONDED,), R.CONFIRMED),  # the rater: solved or partly solved
    A.REOPENED: ((R.RESPONDED,), R.REOPENED),  # the rater: not solved, the first time
    A.ESCALATED: ((R.RESPONDED,), R.ESCALATED),  # the rater: not solved again
    A.CLOSED: ((R.ESCALATED,), R.CLOSED),  # the reviewer settles it
    A.APPEALED: ((R.OPEN, R.REOPENED, R.RESPONDED), R.APPEALED),  # the secretary: a malicious review
    A.UPHELD: ((R.APPEALED,), R.UPHELD),  # the reviewer agrees: the rating is excluded
    A.DISMISSED: ((R.APPEALED,), None),  # the reviewer disagrees: work resumes
}


def _transition(locked: Rectification, action: str, *, actor=None, note: str = "", **fields) -> Rectification:
    """Take one step of RECTIFICATION_TRANSITIONS on a locked rectification, with its audit row.

    ``fields`` are saved along with the new status. A step not allowed from the current status is a 409.
    """
    allowed, to_status = RECTIFICATION_TRANSITIONS[action]
    if locked.status not in allowed:
        raise Conflict(
            _("Not possible while the rectification is “%(status)s”.") % {"status": locked.get_status_display()},
            code="wrong_status",
        )
    before = locked.status
    locked.status = to_status or locked.status_before_appeal or R.OPEN
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", *fields])
    _event(locked, action, before, actor, note)
    return locked


@transaction.atomic
def rectification_open(*, evaluation: Evaluation, actor=None) -> Rectification:
    today = timezone.localdate()
    rectification = Rectification.objects.create(
        evaluation=evaluation,
        brand_id=evaluation.brand_id,
        organization_id=evaluation.organization_id,
        due_on=add_working_days(today, settings.RECTIFICATION_DUE_WORKING_DAYS),
        contact_due_on=(
            add_working_days(today, settings.RECTIFICATION_CONTACT_WORKING_DAYS) if evaluation.contact else None
        ),
    )
    _event(rectification, RectificationEvent.Action.OPENED, "", actor)
    _notices_write(rectification, NOTICE_OPENED)
    return rectification


@transaction.atomic
def rectification_respond(*, rectification: Rectification, response: str, actor) -> Rectification:
    response = (response or "").strip()
    if not response:
        raise ApplicationError(_("Write what was done."), field="response")
    if len(response) > 2000:
        raise ApplicationError(_("At most 2000 characters."), field="response")
    return _transition(
        _lock(rectification),
        A.RESPONDED,
        actor=actor,
        note=response,
        response=response,
        responded_at=timezone.now(),
        verdict="",
    )


@transaction.atomic
def rectification_verdict(*, rectification: Rectification, verdict: str) -> Rectification:
    """The rater (holder of the receipt) judges the response; 未解决 reopens once, then escalates."""
    if verdict not in Rectification.Verdict.values:
        raise ApplicationError(_("Choose one of the answers."), field="verdict")
    locked = _lock(rectification)
    if verdict != Rectification.Verdict.DISSATISFIED:
        return _transition(locked, A.VERDICT, note=verdict, verdict=verdict)
    if locked.reopen_count == 0 and locked.status in RECTIFICATION_TRANSITIONS[A.REOPENED][0]:
        return _transition(
            locked,
            A.REOPENED,
            note=verdict,
            verdict=verdict,
            reopen_count=1,
            is_overdue=False,
            due_on=add_working_days(timezone.localdate(), settings.RECTIFICATION_DUE_WORKING_DAYS),
            reminded_on=None,
        )
    return _transition(locked, A.ESCALATED, note=verdict, verdict=verdict)


@transaction.atomic
def rectification_close(*, rectification: Rectification, actor, ruling: str) -> Rectification:
    """The reviewer settles an escalated rectification."""
    ruling = (ruling or "").strip()
    if not ruling:
        raise ApplicationError(_("Write the ruling."), field="ruling")
    return _transition(_lock(rectification), A.CLOSED, actor=actor, note=ruling, ruling=ruling[:1000])


@transaction.atomic
def rectification_appeal(*, rectification: Rectification, reason: str, actor) -> Rectification:
    """The secretary contests the review as malicious (申诉); once per rectification."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Explain why the review is malicious."), field="reason")
    locked = _lock(rectification)
    if locked.appeal_reason and locked.status in RECTIFICATION_TRANSITIONS[A.APPEALED][0]:
        raise Conflict(_("This review was already appealed once."), code="wrong_status")
    return _transition(
        locked, A.APPEALED, actor=actor, note=reason, status_before_appeal=locked.status, appeal_reason=reason[:1000]
    )


@transaction.atomic
def rectification_rule_appeal(*, rectification: Rectification, uphold: bool, ruling: str, actor) -> Rectification:
    """The reviewer upholds (the rating is excluded, reason kept) or dismisses (work resumes) an appeal."""
    ruling = (ruling or "").strip()
    if not ruling:
        raise ApplicationError(_("Write the ruling."), field="ruling")
    locked = _lock(rectification)
    if not uphold:
        return _transition(locked, A.DISMISSED, actor=actor, note=ruling, ruling=ruling[:1000])
    locked = _transition(locked, A.UPHELD, actor=actor, note=ruling, ruling=ruling[:1000])
    evaluation_change_state(
        evaluation=locked.evaluation,
        to_state=Evaluation.State.EXCLUDED,
        reason=f"appeal upheld: {ruling}"[:200],
        actor=actor,
    )
    return locked


def rectifications_mark_overdue() -> int:
    """Mark every rectification past its due date that still owes a response. Safe to run again."""
    today = timezone.localdate()
    marked = 0
    candidates = Rectification.objects.filter(
        status__in=Rectification.AWAITING_RESPONSE, is_overdue=False, due_on__lt=today
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            locked = Rectification.objects.select_for_update().get(pk=pk)
            if locked.is_overdue or locked.status not in Rectification.AWAITING_RESPONSE or locked.due_on >= today:
                continue
            locked.is_overdue = True
            locked.save(update_fields=["is_overdue"])
            _event(locked, RectificationEvent.Action.OVERDUE, locked.status, note=str(locked.due_on))
            marked += 1
    return marked


def rectifications_remind_due() -> int:
    """Write a reminder notice for every rectification due on the next working day, once per due date.

    On a Friday that is Monday's deadlines, so nobody first hears of them on the day itself.
    """
    tomorrow = add_working_days(timezone.localdate(), 1)
    reminded = 0
    for pk in list(
        Rectification.objects.filter(status__in=Rectification.AWAITING_RESPONSE, due_on=tomorrow)
        .exclude(reminded_on=tomorrow)
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            updated = Rectification.objects.filter(pk=pk).exclude(reminded_on=tomorrow).update(reminded_on=tomorrow)
            if updated:
                _notices_write(Rectification.objects.select_related("brand").get(pk=pk), NOTICE_DUE)
                reminded += 1
    return reminded


# --- notices ------------------------------------------------------------------------

NOTICE_OPENED, NOTICE_DUE = "opened", "due"
NOTICE_LABELS = {
    NOTICE_OPENED: gettext_lazy("A rectification was opened"),
    NOTICE_DUE: gettext_lazy("A rectification is due tomorrow"),
}


def _notices_write(rectification: Rectification, kind: str) -> None:
    """A notice to each secretary and staff member of the organization, in the caller's transaction.

    One per person and event: the reminder's event is its due date (a reopened rectification has a new one).
    """
    event = f"due:{rectification.due_on:%Y-%m-%d}" if kind == NOTICE_DUE else kind
    notices_write(
        recipients=notice_recipients_managing(organization_id=rectification.organization_id),
        kind=f"rectification_{kind}",
        key=f"rectification:{rectification.pk}:{event}",
        template="evaluations/mail/notification",
        context={"rectification": rectification, "kind": kind, "kind_label": NOTICE_LABELS[kind]},
        path=reverse("evaluations:workspace-rectification", args=[rectification.pk]),
    )


def mask_contact(contact: str) -> str:
    """Show enough to recognize one's own contact, not enough to use it: 138****5678."""
    if not contact:
        return ""
    digits = re.sub(r"\s", "", contact)
    if len(digits) <= 4:
        return "*" * len(digits)
    keep = 3 if len(digits) >= 11 else 1
    return digits[:keep] + "*" * (len(digits) - keep - 4) + digits[-4:]


# --- surges ----------------------------------------------------------------------------


@transaction.atomic
def surge_decide(*, surge: Surge, release: bool, actor, note: str = "") -> Surge:
    """A reviewer releases a surge (its held ratings count) or rejects it (they are excluded), in one action.

    Each rating changes state through ``evaluation_change_state``, so the audit rows are written and
    the next fold picks the changes up. A released rating whose device already counts that day
    stays out as a repeat; a released bad review opens its rectification if it has none yet.
    """
    locked = Surge.objects.select_for_update().get(pk=surge.pk)
    if locked.status != Surge.Status.OPEN:
        raise Conflict(_("This surge was already decided."), code="wrong_status")
    note = (note or "").strip()[:200]
    held = list(locked.evaluations.filter(state=Evaluation.State.FLAGGED).order_by("id"))
    for evaluation in held:
        if not release:
            evaluation_change_state(
                evaluation=evaluation,
                to_state=Evaluation.State.EXCLUDED,
                reason=(f"surge rejected: {note}" if note else "surge rejected")[:200],
                actor=actor,
            )
            continue
        try:
            counted = evaluation_change_state(
                evaluation=evaluation,
                to_state=Evaluation.State.COUNTED,
                reason=(f"surge released: {note}" if note else "surge released")[:200],
                actor=actor,
            )
        except ApplicationError:  # this device already counts that day
            evaluation_change_state(
                evaluation=evaluation, to_state=Evaluation.State.EXCLUDED, reason=REPEAT_REASON, actor=actor
            )
            continue
        if counted.is_bad and not Rectification.objects.filter(evaluation=counted).exists():
            rectification_open(evaluation=counted, actor=actor)
    locked.status = Surge.Status.RELEASED if release else Surge.Status.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.note = note
    locked.save(update_fields=["status", "decided_by", "decided_at", "note"])
    audit_record(
        actor=actor,
        action="surge.release" if release else "surge.reject",
        target=locked,
        before={"status": Surge.Status.OPEN},
        after={"status": locked.status, "ratings": len(held)},
        detail=note,
        label=str(locked.day),
    )
    # The submit path caches a surge's status (`surges.known_state`): the next rating reads the decision.
    # Forgotten now and again after the commit, as a rating meanwhile may have cached the status before it.
    forget = partial(surges.forget_state, code=locked.brand.code, today=locked.day)
    forget()
    transaction.on_commit(forget)
    return locked
