"""Brand programmes (党建品牌) and what hangs off them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization

# Bounds the services enforce (and the forms and API show): a weight is a share of a plan's progress,
# summed over its milestones; a plan runs over calendar years.
MILESTONE_WEIGHT_MAX = 100
PLAN_YEARS = (2000, 2100)


class Brand(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned")
        CULTIVATING = "cultivating", _("Cultivating (培育)")
        NAMED = "named", _("Named (命名)")
        DEMONSTRATION = "demonstration", _("Demonstration (示范)")
        REVOKED = "revoked", _("Revoked (撤销)")

    class Level(models.TextChoices):
        """The tier the brand is created at."""

        CITY = "city", _("City-level brand (市级)")
        DISTRICT = "district", _("District-level brand (区级)")
        STREET = "street", _("Street/town-level brand (街道级)")
        GRASSROOTS = "grassroots", _("Grassroots brand (基层)")

    class ServiceTarget(models.TextChoices):
        SUB_ORGANIZATIONS = "sub_org", _("Subordinate Party organizations (下级党组织)")
        MEMBERS = "members", _("Party members (党员)")
        MASSES = "masses", _("The masses (群众)")

    # Only these are shown to the public and may be rated.
    PUBLIC_STATUSES = (Status.CULTIVATING, Status.NAMED, Status.DEMONSTRATION)

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="brands", verbose_name=_("organization")
    )
    # Short public code for URLs and QR codes: stable forever, never reused.
    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    slogan = models.CharField(_("slogan"), max_length=200, blank=True)
    concept = models.TextField(_("concept"), blank=True)
    carrier = models.TextField(_("carrier"), blank=True)
    positioning = models.TextField(_("positioning"), blank=True)
    # A list of ServiceTarget values.
    service_targets = models.JSONField(_("service targets"), default=list, blank=True)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, default=Level.GRASSROOTS)
    logo = models.ImageField(_("logo"), upload_to="brands/logos/", blank=True)
    cover = models.ImageField(_("cover image"), upload_to="brands/covers/", blank=True)
    # Display sizes derived from the normalized originals above (see brands.images).
    logo_small = models.ImageField(upload_to="brands/logos/small/", blank=True, editable=False)
    cover_medium = models.ImageField(upload_to="brands/covers/medium/", blank=True, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.status in self.PUBLIC_STATUSES

    @property
    def progress_percent(self) -> int:
        """Weighted share of completed milestones; needs ``weight_total``/``weight_done`` from brands.selectors."""
        total = getattr(self, "weight_total", 0)
        return round(100 * self.weight_done / total) if total else 0

    @property
    def service_target_labels(self) -> list[str]:
        return [str(self.ServiceTarget(t).label) for t in self.service_targets if t in self.ServiceTarget.values]


class BrandTransition(models.Model):
    """Audit row for one status change of a brand: who, when, from, to and why."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("brand"))
    # Denormalized from the brand (set by brands.services) so tenancy filters need no join.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="brand_transitions", verbose_name=_("organization")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )
    decision = models.CharField(_("decision"), max_length=20)
    from_status = models.CharField(_("from"), max_length=20, choices=Brand.Status.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=Brand.Status.choices)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.brand} {self.from_status} → {self.to_status}"


class Commitment(models.Model):
    """A public service promise (承诺事项); shown in ``position`` order."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="commitments", verbose_name=_("brand"))
    # Denormalized from the brand (set by brands.services) so tenancy filters need no join.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="brand_commitments", verbose_name=_("organization")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    text = models.CharField(_("commitment"), max_length=300)

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class Plan(models.Model):
    """The brand's long plan (长计划); its milestones are the short arrangements (短安排)."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="plan", verbose_name=_("brand"))
    # Denormalized from the brand (set by brands.services) so tenancy filters need no join.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="brand_plans", verbose_name=_("organization")
    )
    start_year = models.PositiveSmallIntegerField(_("first year"))
    end_year = models.PositiveSmallIntegerField(_("last year"))
    goals = models.TextField(_("goals"))

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.CheckConstraint(condition=models.Q(end_year__gte=models.F("start_year")), name="plan_years_ordered")
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.start_year}–{self.end_year}"


class Milestone(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="milestones", verbose_name=_("plan"))
    # Denormalized from the brand (set by brands.services) so tenancy filters need no join.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="brand_milestones", verbose_name=_("organization")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    due_date = models.DateField(_("due date"))
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_date", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(weight__gte=1), name="milestone_weight_positive")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.completed_on is not None

    @property
    def is_overdue(self) -> bool:
        return self.completed_on is None and self.due_date < timezone.localdate()


class ProgressReport(models.Model):
    milestone = models.ForeignKey(
        Milestone, on_delete=models.CASCADE, related_name="reports", verbose_name=_("milestone")
    )
    # Denormalized from the brand (set by brands.services) so tenancy filters need no join.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="brand_progress_reports", verbose_name=_("organization")
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("report"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:40]


class ReportPhoto(models.Model):
    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="photos")
    # Denormalized from the brand (set by brands.services) so tenancy filters need no join.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="brand_report_photos", verbose_name=_("organization")
    )
    image = models.ImageField(_("photo"), upload_to="brands/photos/")
    thumbnail = models.ImageField(upload_to="brands/photos/thumbs/")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.image.name


class Case(models.Model):
    """A typical experience (典型经验) written by the brand's organization and published by a reviewer."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Awaiting publication")
        PUBLISHED = "published", _("Published")

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="cases", verbose_name=_("brand"))
    # Denormalized from the brand (set by brands.services) so tenancy filters need no join.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="brand_cases", verbose_name=_("organization")
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300)
    body = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("typical experience")
        verbose_name_plural = _("typical experiences")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


class CaseAdoption(models.Model):
    """A brand takes up another brand's published case (推广典型经验): which case, for which brand, by whom, when.

    The adopting brand's ratings before and after ``adopted_on`` are what the case page compares.
    """

    # Not indexed on its own: the unique constraint's index (case first) serves lookups by case.
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="adoptions", verbose_name=_("typical experience"), db_index=False
    )
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="case_adoptions", verbose_name=_("adopting brand")
    )
    # Denormalized from the adopting brand (set by brands.services) so tenancy filters need no join.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="case_adoptions", verbose_name=_("organization")
    )
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("adopted by")
    )
    adopted_on = models.DateField(_("adopted on"), default=timezone.localdate)
    note = models.TextField(_("how it is applied"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("case adoption")
        verbose_name_plural = _("case adoptions")
        ordering = ["adopted_on", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "brand"], name="case_adoption_once_per_brand")]

    def __str__(self) -> str:
        return f"{self.brand} ← {self.case}"
