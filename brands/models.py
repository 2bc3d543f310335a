"""Brand programmes (党建品牌) and what hangs off them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization


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
