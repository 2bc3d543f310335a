"""Reads over organizations."""

import uuid

from django.core.cache import cache
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Length, Substr

from organizations import rules
from organizations.models import Organization


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


# Changes whenever an organization is saved, moved or deleted (in the admin); caches of reads that show
# organization names, domains or the tree key on it.
ORGANIZATION_VERSION_KEY = "organizations:version"


def organization_version() -> str:
    return cache.get_or_set(ORGANIZATION_VERSION_KEY, lambda: uuid.uuid4().hex, None)
