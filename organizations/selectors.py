"""Reads over organizations."""

import uuid
from datetime import date

from django.core.cache import cache
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Length, Substr

from organizations import rules
from organizations.models import AuditEntry, Organization


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
