"""Citizens' ratings of brands and what follows from them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from brands.models import Brand
from organizations.models import Organization


class Grade(models.IntegerChoices):
    """The national 好差评 5-grade scale; 1 and 2 are bad reviews."""

    VERY_SATISFIED = 5, _("Very satisfied (非常满意)")
    SATISFIED = 4, _("Satisfied (满意)")
    BASICALLY_SATISFIED = 3, _("Basically satisfied (基本满意)")
    DISSATISFIED = 2, _("Dissatisfied (不满意)")
    VERY_DISSATISFIED = 1, _("Very dissatisfied (非常不满意)")


BAD_GRADES = (Grade.DISSATISFIED, Grade.VERY_DISSATISFIED)


def _grade_check(field: str, nullable: bool) -> models.CheckConstraint:
    condition = models.Q(**{f"{field}__gte": 1, f"{field}__lte": 5})
    if nullable:
        condition |= models.Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=f"evaluation_{field}_1_to_5")


class CommentStatus(models.TextChoices):
    NONE = "none", _("No comment")
    PENDING = "pending", _("Awaiting moderation")
    HELD = "held", _("Held by the word list")
    PUBLISHED = "published", _("Published")
    HIDDEN = "hidden", _("Hidden")


class HoldReason(models.TextChoices):
    """Why a rating is held for review (state "flagged") rather than counted; stored as codes in ``state_reason``.

    Each label is what the rater is told on the receipt, in plain words.
    """

    BOT_FIELD = "bot-field", _("a field meant only for robots was filled in")
    FORM_TOKEN = "form-token", _("the form was not opened on this site or is more than a day old")
    TOO_FAST = "too-fast", _("the form was sent within seconds of opening it")
    NO_PROOF = "no-proof", _("many ratings came from your address, and this one came without the browser check")
    NETWORK = "network", _("many ratings of this service came from your network today")
    SURGE = "surge", _("this service received far more ratings today than usual, and they are being checked")


class Evaluation(models.Model):
    """One rating of one brand. Never deleted: doubtful ones are flagged or excluded, with a reason."""

    class RaterGroup(models.TextChoices):
        MASSES = "masses", _("Resident (群众)")
        MEMBER = "member", _("Party member (党员)")
        SUB_ORGANIZATION = "sub_org", _("Subordinate organization (下级党组织)")

    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        API = "api", _("API")

    class State(models.TextChoices):
        COUNTED = "counted", _("Counted")
        FLAGGED = "flagged", _("Flagged")  # suspicious: left out of scores until a reviewer restores it
        EXCLUDED = "excluded", _("Excluded")  # decided: left out for good (e.g. an upheld appeal)

    # Not indexed on its own: the (brand, rated_on) index serves brand lookups, and every index slows
    # the submit path's insert.
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("brand"), db_index=False
    )
    # Denormalized from the brand so tenancy filters need no join.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("organization")
    )
    overall = models.PositiveSmallIntegerField(_("overall"), choices=Grade.choices)
    management = models.PositiveSmallIntegerField(_("management"), choices=Grade.choices, null=True, blank=True)
    service = models.PositiveSmallIntegerField(_("service"), choices=Grade.choices, null=True, blank=True)
    quality = models.PositiveSmallIntegerField(_("quality"), choices=Grade.choices, null=True, blank=True)
    rater_group = models.CharField(
        _("rater group"), max_length=10, choices=RaterGroup.choices, default=RaterGroup.MASSES
    )
    comment = models.TextField(_("comment"), max_length=500, blank=True)
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    # Unique by a constraint rather than ``unique=True``, which on PostgreSQL adds a second,
    # pattern-matching index that no query uses (receipts are looked up by equality).
    receipt = models.CharField(_("receipt"), max_length=32)
    # Salted hashes only; the raw IP is never stored.
    # Not indexed on their own: the partial unique constraint covers device lookups and
    # the throttles count in the cache; every index slows the submit path's insert.
    device_hash = models.CharField(_("device hash"), max_length=64)
    ip_hash = models.CharField(_("IP hash"), max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.COUNTED)
    state_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Rated with a one-time code from a service encounter (一次一评): counts past every network limit.
    verified = models.BooleanField(_("verified by a rating code"), default=False)
    # The surge this rating is held in, if any (released: counted; rejected: excluded).
    surge = models.ForeignKey(
        "Surge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluations",
        verbose_name=_("surge"),
        db_index=False,  # a partial index below: only held ratings have a surge
    )
    # Local (Asia/Shanghai) calendar day of the rating: the unit of "one per day" and of periods.
    rated_on = models.DateField(_("rated on"))
    # Indexed by migration 0007_created_at_brin: BRIN on PostgreSQL (rows arrive in time order, and a BRIN index
    # costs the insert almost nothing), B-tree elsewhere. Read by the score jobs' overlap window.
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Comments are public only once published by a moderator.
    comment_status = models.CharField(
        _("comment status"), max_length=10, choices=CommentStatus.choices, default=CommentStatus.NONE
    )
    comment_reason = models.CharField(_("moderation note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            _grade_check("overall", nullable=False),
            _grade_check("management", nullable=True),
            _grade_check("service", nullable=True),
            _grade_check("quality", nullable=True),
            models.UniqueConstraint(fields=["receipt"], name="evaluation_receipt_unique"),
            # One counted rating per device per brand per day, enforced by the database so that
            # concurrent submissions cannot both count; repeats are stored as not counted.
            models.UniqueConstraint(
                fields=["brand", "device_hash", "rated_on"],
                condition=models.Q(state="counted"),
                name="evaluation_one_counted_per_device_day",
            ),
        ]
        indexes = [
            models.Index(fields=["brand", "rated_on"], name="evaluation_brand_day"),
            # Only the moderation queue is looked up by comment status.
            models.Index(
                fields=["organization", "comment_status"],
                condition=models.Q(comment_status__in=["pending", "held"]),
                name="evaluation_comment_queue",
            ),
            models.Index(fields=["surge"], condition=models.Q(surge__isnull=False), name="evaluation_surge"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} · {self.overall} · {self.receipt}"

    @property
    def is_bad(self) -> bool:
        return self.overall in BAD_GRADES

    @property
    def hold_reasons(self) -> list[tuple[str, str]]:
        """(code, plain words) of why a held rating is held; a note from before reasons were codes stays as it is."""
        if self.state != self.State.FLAGGED:
            return []
        labels = dict(HoldReason.choices)
        codes = filter(None, (part.strip() for part in self.state_reason.split(";")))
        return [(code, str(labels.get(code, code))) for code in codes]


class EvaluationStateChange(models.Model):
    """Audit row for every change of an evaluation's state; also the input of incremental scoring."""

    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.PROTECT, related_name="state_changes", verbose_name=_("evaluation")
    )
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    from_state = models.CharField(_("from"), max_length=10, choices=Evaluation.State.choices)
    to_state = models.CharField(_("to"), max_length=10, choices=Evaluation.State.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("evaluation state change")
        verbose_name_plural = _("evaluation state changes")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.evaluation_id}: {self.from_state} → {self.to_state}"


# --- rectifications ---------------------------------------------------------


class Rectification(models.Model):
    """The follow-up of one bad review: a response by a deadline, the rater's verdict, appeal and escalation."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESPONDED = "responded", _("Responded")
        REOPENED = "reopened", _("Reopened")
        CONFIRMED = "confirmed", _("Confirmed")
        ESCALATED = "escalated", _("Escalated to reviewer")
        CLOSED = "closed", _("Closed by reviewer")
        APPEALED = "appealed", _("Appealed")
        UPHELD = "upheld", _("Appeal upheld")

    class Verdict(models.TextChoices):
        # The answers to "Is the problem solved?"; the stored values keep their first names.
        SATISFIED = "satisfied", _("Solved")
        BASICALLY_SATISFIED = "basic", _("Partly solved")
        DISSATISFIED = "dissatisfied", _("Not solved")

    # Statuses in which the organization still owes a response.
    AWAITING_RESPONSE = (Status.OPEN, Status.REOPENED)
    FINISHED = (Status.CONFIRMED, Status.CLOSED, Status.UPHELD)

    evaluation = models.OneToOneField(
        Evaluation, on_delete=models.PROTECT, related_name="rectification", verbose_name=_("evaluation")
    )
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="rectifications", verbose_name=_("brand"))
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="rectifications", verbose_name=_("organization")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    due_on = models.DateField(_("due on"))
    contact_due_on = models.DateField(_("contact the rater by"), null=True, blank=True)
    is_overdue = models.BooleanField(_("overdue"), default=False, db_index=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    response = models.TextField(_("response"), max_length=2000, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    verdict = models.CharField(_("rater's verdict"), max_length=12, choices=Verdict.choices, blank=True)
    appeal_reason = models.TextField(_("appeal reason"), max_length=1000, blank=True)
    # Where an appeal returns to when it is dismissed.
    status_before_appeal = models.CharField(max_length=12, choices=Status.choices, blank=True)
    ruling = models.TextField(_("reviewer's ruling"), max_length=1000, blank=True)
    reminded_on = models.DateField(_("reminder sent on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["organization", "status"], name="rectification_org_status")]

    def __str__(self) -> str:
        return f"{self.brand} · {self.get_status_display()} · {self.due_on}"


class RectificationEvent(models.Model):
    """Audit row: every step of a rectification with actor (none for the rater or the system) and time."""

    class Action(models.TextChoices):
        OPENED = "opened", _("Opened")
        RESPONDED = "responded", _("Responded")
        VERDICT = "verdict", _("Rater's verdict")
        REOPENED = "reopened", _("Reopened")
        ESCALATED = "escalated", _("Escalated")
        CLOSED = "closed", _("Closed by reviewer")
        OVERDUE = "overdue", _("Marked overdue")
        APPEALED = "appealed", _("Appealed")
        UPHELD = "upheld", _("Appeal upheld")
        DISMISSED = "dismissed", _("Appeal dismissed")

    rectification = models.ForeignKey(
        Rectification, on_delete=models.PROTECT, related_name="events", verbose_name=_("rectification")
    )
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=12, choices=Rectification.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Rectification.Status.choices)
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("rectification event")
        verbose_name_plural = _("rectification events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.rectification_id}: {self.action}"


# --- service encounters (一次一评) and surge holds -------------------------------------


class RatingCodeBatch(models.Model):
    """One issue of rating codes: the audit row (who, when, how many, valid until). The codes are hashed."""

    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="rating_code_batches", verbose_name=_("brand")
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by")
    )
    count = models.PositiveIntegerField(_("codes"))
    expires_at = models.DateTimeField(_("valid until"))
    channel = models.CharField(_("issued through"), max_length=10, default="web")
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)

    class Meta:
        verbose_name = _("rating code batch")
        verbose_name_plural = _("rating code batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.brand} · {self.count} · {self.created_at:%Y-%m-%d}"


class RatingCode(models.Model):
    """A one-time rating code for one brand: good for one rating until it expires. Only its hash is stored."""

    batch = models.ForeignKey(RatingCodeBatch, on_delete=models.PROTECT, related_name="codes", verbose_name=_("batch"))
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+", verbose_name=_("brand"))
    code_hash = models.CharField(_("code hash"), max_length=64, unique=True)
    expires_at = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    evaluation = models.OneToOneField(
        Evaluation, on_delete=models.PROTECT, null=True, blank=True, related_name="rating_code"
    )

    class Meta:
        verbose_name = _("rating code")
        verbose_name_plural = _("rating codes")

    def __str__(self) -> str:
        return f"{self.brand} · {self.code_hash[:8]}"


class Surge(models.Model):
    """Unverified ratings of one brand on one day far above its expected rate; the excess is held here.

    A reviewer releases it (the held ratings count) or rejects it (they are excluded), in one action.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting review")
        RELEASED = "released", _("Released: the ratings count")
        REJECTED = "rejected", _("Rejected: the ratings are excluded")

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="surges", verbose_name=_("brand"))
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="surges", verbose_name=_("organization")
    )
    day = models.DateField(_("day"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    # The rule's evidence when the surge opened: expected ratings that day, and the count past which it holds.
    expected = models.FloatField(_("expected ratings per day"))
    own_rate = models.FloatField(_("the brand's own daily rate"))
    peer_rate = models.FloatField(_("its peers' median daily rate"))
    threshold = models.PositiveIntegerField(_("held past"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)

    class Meta:
        verbose_name = _("surge")
        verbose_name_plural = _("surges")
        ordering = ["-day", "-id"]
        constraints = [models.UniqueConstraint(fields=["brand", "day"], name="surge_one_per_brand_day")]
        indexes = [models.Index(fields=["organization", "status"], name="surge_org_status")]

    def __str__(self) -> str:
        return f"{self.brand} · {self.day} · {self.get_status_display()}"
