"""Reads over organizations."""

import uuid
from datetime import date

from django.core.cache import cache
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Length, Substr

from organizations import rules
from organizations.models import AuditEntry, Membership, Organization, User


def organization_list(*, user) -> QuerySet[Organization]:
    """Organizations the user may see, in tree order, each with ``parent_id`` annotated."""
    parent = Organization.objects.filter(
        path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Organization.steplen)
    ).values("id")[:1]
    return rules.organizations_for(user, rules.Action.VIEW).annotate(parent_id=Subquery(parent)).order_by("path")


def organization_parents() -> QuerySet[Organization]:
    """Organizations with children, in tree order: the choices of a "within parent" filter."""
    return Organization.objects.filter(numchild__gt=0).order_by("path").only("id", "name", "depth")


def organization_subtree(*, organization: Organization) -> QuerySet[Organization]:
    return Organization.objects.filter(path__startswith=organization.path).order_by("path")


def audit_entries_for(*, user) -> QuerySet[AuditEntry]:
    """The audit rows the user may read: those of every organization the user may view (a reviewer's
    subtree, a secretary's organization), and the user's own changes that belong to no organization."""
    visible = rules.scope(user, rules.Action.VIEW)
    if user.is_authenticated:
        visible |= Q(organization__isnull=True, actor=user)
    return AuditEntry.objects.filter(visible)


def audit_entry_list(*, user, action: str = "", since: date | None = None, until: date | None = None):
    """The audit trail in the user's reach, newest first, filtered by action and by day (both days included)."""
    entries = audit_entries_for(user=user)
    if action:
        entries = entries.filter(action=action)
    if since:
        entries = entries.filter(created_at__date__gte=since)
    if until:
        entries = entries.filter(created_at__date__lte=until)
    return entries.select_related("actor", "organization").order_by("-created_at", "-id")


def audit_actions(*, user) -> list[str]:
    """The actions found in the user's audit trail: the choices of its action filter."""
    return list(audit_entries_for(user=user).order_by("action").values_list("action", flat=True).distinct())


# Changes whenever an organization is saved, moved or deleted (in the admin); caches of reads that show
# organization names, domains or the tree key on it.
ORGANIZATION_VERSION_KEY = "organizations:version"


def organization_version() -> str:
    return cache.get_or_set(ORGANIZATION_VERSION_KEY, lambda: uuid.uuid4().hex, None)


# --- who hears of what (the notice outbox) ---


def _people(*, action: rules.Action, **membership) -> QuerySet[User]:
    """Active users with an e-mail address holding a role for ``action`` on a membership matching ``membership``."""
    filters = {f"memberships__{name}": value for name, value in membership.items()}
    return (
        User.objects.filter(is_active=True, memberships__role__in=rules.ROLES_FOR_ACTION[action], **filters)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def notice_recipients_managing(*, organization_id: int) -> QuerySet[User]:
    """Who hears of an organization's own business (a bad review of its brand, a decision on it): the people
    with a managing role (secretary, staff) on the organization itself."""
    return _people(action=rules.Action.MANAGE, organization_id=organization_id)


def notice_recipients_reviewing(*, organization: Organization) -> QuerySet[User]:
    """Who hears that an organization submitted its brand: the reviewers whose role reaches it (on it or on
    an ancestor), except those who also manage it, whom the review refuses."""
    step = Organization.steplen
    paths = [organization.path[:end] for end in range(step, len(organization.path) + 1, step)]
    managers = Membership.objects.filter(
        organization__path__in=paths, role__in=rules.ROLES_FOR_ACTION[rules.Action.MANAGE]
    ).values("user_id")
    return _people(action=rules.Action.REVIEW, organization__path__in=paths).exclude(pk__in=managers)
