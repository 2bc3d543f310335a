"""Users, the Party organization tree and who holds which role where."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class User(AbstractUser):
    """The portal's user. Custom from the first migration so it can grow."""

    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Organization(MP_Node):
    """A Party organization; the tree runs 市委 → 区委 → 党工委 → 党委 → 党总支 → 党支部."""

    class Level(models.TextChoices):
        CITY_COMMITTEE = "city", _("Municipal Party committee (市委)")
        DISTRICT_COMMITTEE = "district", _("District Party committee (区委)")
        WORKING_COMMITTEE = "working", _("Party working committee (党工委)")
        COMMITTEE = "committee", _("Party committee (党委)")
        GENERAL_BRANCH = "general_branch", _("General Party branch (党总支)")
        BRANCH = "branch", _("Party branch (党支部)")

    class Domain(models.TextChoices):
        ORGAN = "organ", _("Government organ (机关)")
        COMMUNITY = "community", _("Community (社区)")
        RURAL = "rural", _("Rural (农村)")
        STATE_ENTERPRISE = "soe", _("State-owned enterprise (国有企业)")
        PRIVATE_ENTERPRISE = "private", _("Non-public enterprise (非公企业)")
        SCHOOL = "school", _("School (学校)")
        SOCIAL = "social", _("Social organization (社会组织)")
        OTHER = "other", _("Other (其他)")

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    domain = models.CharField(_("domain"), max_length=20, choices=Domain.choices, db_index=True)
    region = models.CharField(_("region"), max_length=60, blank=True, db_index=True)

    node_order_by = ["name"]

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.short_name or self.name


class Membership(models.Model):
    """A role held on an organization; it reaches the organization's whole subtree."""

    class Role(models.TextChoices):
        SECRETARY = "secretary", _("Secretary")
        STAFF = "staff", _("Staff")
        REVIEWER = "reviewer", _("Reviewer")
        ADMIN = "admin", _("Administrator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organization")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organization}"


class ApiToken(models.Model):
    """A bearer token for the API (organizations.authentication): stored as a hash, it expires, its owner
    revokes it by logging out, and a new password ends it (the fingerprint no longer matches)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    # SHA-256 of the token: the token is 256 random bits, so a fast hash cannot be reversed by guessing.
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    # An HMAC of the user's password hash when the token was issued.
    password_fingerprint = models.CharField(_("password fingerprint"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d %H:%M}"


class DailyHashKey(models.Model):
    """A random secret for one day, with which client addresses are hashed (evaluations.integrity.salted_hash).

    Deleted a few days later: a stored address hash can then no longer be recomputed, so not reversed by
    hashing every IPv4 address, even by someone holding the database and the settings.
    """

    day = models.DateField(_("day"), unique=True)
    secret = models.CharField(_("secret"), max_length=64)

    class Meta:
        verbose_name = _("daily hash key")
        verbose_name_plural = _("daily hash keys")

    def __str__(self) -> str:
        return str(self.day)


class AuditEntry(models.Model):
    """One state change anywhere in the portal: who (``actor``; none when the system did it), in which
    organization, what (``action``, ``<entity>.<verb>``), on which row, from what to what.

    Written by ``organizations.audit.audit_record`` in the same transaction as the change it records, so a
    change and its entry commit or roll back together. Never edited or deleted. The domains keep their own
    timelines (a brand's transitions, a rectification's events) for their pages and scores; this table is
    the one place that answers "who changed what, when" for all of them.
    """

    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # The tenant; none for a change of the actor's own (an API token).
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("organization")
    )
    action = models.CharField(_("action"), max_length=60, db_index=True)
    target_type = models.CharField(_("target type"), max_length=60)  # "<app>.<model>"
    target_id = models.CharField(_("target id"), max_length=40)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_time"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} · {self.action} · {self.target_label}"


class Notice(models.Model):
    """One mail owed to one person: an outbox row, written in the same transaction as the event it tells of.

    Subject and body are rendered when the row is written (in the site's language, with the person's name
    and an absolute link), so delivery depends on nothing but this row. ``organizations.services`` sends it
    after commit, retries a failed mail with a doubling delay, and marks it failed past the last attempt;
    the beat's sweep sends whatever is still pending, so a lost task or a Redis restart loses nothing.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        DIGEST = "digest", _("Waiting for the daily digest")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices", verbose_name=_("recipient")
    )
    # The event told of, e.g. "rectification:12:opened" or "brand-transition:7": one notice per person and key.
    key = models.CharField(_("event"), max_length=100)
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    link = models.URLField(_("link"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    in_digest = models.BooleanField(_("sent in a digest"), default=False)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notice_once_per_event")]
        indexes = [
            # The sweep's and the digest's reads; the daily count of mails a person got.
            models.Index(fields=["status", "next_attempt_at"], name="notice_due"),
            models.Index(fields=["recipient", "sent_at"], name="notice_recipient_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} · {self.key} · {self.status}"
