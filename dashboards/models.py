"""The organization department's dashboard: precomputed figures per subtree, early warnings and 帮扶 cases."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from brands.models import Brand
from organizations.models import Organization


class NodeFigures(models.Model):
    """One organization's subtree in one period, as the dashboard shows it; rebuilt by `dashboards.services`.

    ``figures`` holds additive counts (ratings per grade and rater group, rectifications, brands by
    status and level, grassroots organizations and those with a public brand, per domain) so a node's
    figures are the sum of its own and its children's; rates and scores are derived when read.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organization"), db_index=False
    )
    period = models.IntegerField(_("period"))  # a scores.periods code: 202611, 20264, 2026
    figures = models.JSONField(_("figures"), default=dict)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("node figures")
        verbose_name_plural = _("node figures")
        constraints = [models.UniqueConstraint(fields=["organization", "period"], name="nodefigures_node_period")]

    def __str__(self) -> str:
        return f"{self.organization_id} · {self.period}"


class EarlyWarning(models.Model):
    """An early warning (后进帮扶): a rule that fired for a brand, with its figures; resolves itself when it ends."""

    class Rule(models.TextChoices):
        BOTTOM = "bottom", _("At the bottom of its domain's ranking two months running")
        FALL = "fall", _("Score fell more than chance explains")
        OVERDUE_RECTIFICATIONS = "overdue", _("Overdue rectifications")
        OVERDUE_MILESTONES = "milestones", _("Overdue plan milestones")
        SILENT = "silent", _("No ratings for a long time")

    class State(models.TextChoices):
        NEW = "new", _("New")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        IN_CASE = "in_case", _("In a 帮扶 case")
        RESOLVED = "resolved", _("Resolved")

    OPEN_STATES = (State.NEW, State.ACKNOWLEDGED, State.IN_CASE)

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="warnings", verbose_name=_("brand"))
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="warnings", verbose_name=_("organization")
    )
    rule = models.CharField(_("rule"), max_length=12, choices=Rule.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.NEW)
    figures = models.JSONField(_("figures"), default=dict)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One open warning per brand and rule; a resolved one may fire again later as a new row.
            models.UniqueConstraint(
                fields=["brand", "rule"],
                condition=~models.Q(state="resolved"),
                name="warning_one_open_per_brand_rule",
            )
        ]
        indexes = [models.Index(fields=["organization", "state"], name="warning_org_state")]

    def __str__(self) -> str:
        return f"{self.brand} · {self.rule} · {self.state}"


class SupportCase(models.Model):
    """A 帮扶 case: a lagging organization paired with a mentor organization, with actions and a closing review."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("帮扶 case status", "Open")
        CLOSED = "closed", pgettext_lazy("帮扶 case status", "Closed")

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="support_cases", verbose_name=_("organization helped")
    )
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="support_cases", verbose_name=_("brand"))
    mentor = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="mentored_cases", verbose_name=_("mentor organization")
    )
    warning = models.ForeignKey(
        EarlyWarning, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases", verbose_name=_("warning")
    )
    goal = models.TextField(_("goal"), max_length=2000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    # The brand's all-time score and n when the case opened and closed: the closing review compares them.
    score_before = models.FloatField(_("score before"), null=True, blank=True)
    n_before = models.IntegerField(_("ratings before"), default=0)
    score_after = models.FloatField(_("score after"), null=True, blank=True)
    n_after = models.IntegerField(_("ratings after"), default=0)
    review = models.TextField(_("closing review"), max_length=4000, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("帮扶 case")
        verbose_name_plural = _("帮扶 cases")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status"], name="supportcase_org_status"),
            models.Index(fields=["mentor", "status"], name="supportcase_mentor_status"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} ← {self.mentor}"


class SupportAction(models.Model):
    """One action of a 帮扶 case: what, who owns it, by when, and whether it is done."""

    case = models.ForeignKey(SupportCase, on_delete=models.CASCADE, related_name="actions", verbose_name=_("case"))
    text = models.CharField(_("action"), max_length=300)
    owner = models.CharField(_("owner"), max_length=100)
    due_on = models.DateField(_("due on"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("帮扶 action")
        verbose_name_plural = _("帮扶 actions")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.text


class SupportEvent(models.Model):
    """Audit and follow-up of a 帮扶 case: every step, with its actor and time; notes are events too."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        ACTION_ADDED = "action", _("Action added")
        ACTION_DONE = "done", _("Action done")
        NOTE = "note", _("Follow-up note")
        CLOSED = "closed", _("Closed with a review")

    case = models.ForeignKey(SupportCase, on_delete=models.CASCADE, related_name="events", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    text = models.TextField(_("text"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("帮扶 event")
        verbose_name_plural = _("帮扶 events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.kind}"
