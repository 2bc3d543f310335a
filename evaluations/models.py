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

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("brand"))
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
    receipt = models.CharField(_("receipt"), max_length=32, unique=True)
    # Salted hashes only; the raw IP is never stored.
    device_hash = models.CharField(_("device hash"), max_length=64, db_index=True)
    ip_hash = models.CharField(_("IP hash"), max_length=64, db_index=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.COUNTED)
    state_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # Local (Asia/Shanghai) calendar day of the rating: the unit of "one per day" and of periods.
    rated_on = models.DateField(_("rated on"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            _grade_check("overall", nullable=False),
            _grade_check("management", nullable=True),
            _grade_check("service", nullable=True),
            _grade_check("quality", nullable=True),
        ]
        indexes = [models.Index(fields=["brand", "rated_on"], name="evaluation_brand_day")]

    def __str__(self) -> str:
        return f"{self.brand} · {self.overall} · {self.receipt}"

    @property
    def is_bad(self) -> bool:
        return self.overall in BAD_GRADES


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
