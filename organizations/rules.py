"""Who may do what, over the organization tree.

The one place that answers both questions, so lists and detail pages can never
disagree:

* ``can(user, action, organization)`` — may this user act on this organization
  (and so on anything it owns)?
* ``organizations_for(user, action)`` / ``scope(user, action, field)`` — which
  organizations (or which rows owned by them) may this user act on?

A role held on an organization reaches its whole subtree (materialized path
prefix). Superusers may do everything. Anything outside a user's reach is
answered with 404 by the callers, exactly as if it did not exist.
"""

from enum import StrEnum

from django.db.models import Q, QuerySet
from django.http import Http404

from organizations.models import Membership, Organization

Role = Membership.Role


class Action(StrEnum):
    VIEW = "view"  # read the organization's private data (drafts, rectifications, dashboards)
    MANAGE = "manage"  # file and edit brands, write reports, respond to reviews
    REVIEW = "review"  # decide on brands, moderate comments, rule on appeals
    ADMINISTER = "administer"  # maintain the tree, users and roles


ROLES_FOR_ACTION: dict[Action, frozenset[str]] = {
    Action.VIEW: frozenset(Role.values),
    Action.MANAGE: frozenset({Role.SECRETARY, Role.STAFF}),
    Action.REVIEW: frozenset({Role.REVIEWER}),
    Action.ADMINISTER: frozenset({Role.ADMIN}),
}


def _memberships(user) -> list[tuple[str, str]]:
    """(role, path) pairs of the user's memberships, loaded once per user object."""
    cached = getattr(user, "_rules_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).values_list("role", "organization__path"))
        user._rules_memberships = cached
    return cached


def forget(user) -> None:
    """Drop the per-object cache after the user's memberships change."""
    user.__dict__.pop("_rules_memberships", None)


def _paths(user, action: Action) -> list[str]:
    """The minimal set of subtree roots the user may act on."""
    roles = ROLES_FOR_ACTION[action]
    paths = sorted({path for role, path in _memberships(user) if role in roles})
    roots: list[str] = []
    for path in paths:  # sorted, so an ancestor comes before its descendants
        if not any(path.startswith(root) for root in roots):
            roots.append(path)
    return roots


def is_unrestricted(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def can(user, action: Action, organization: Organization) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return any(organization.path.startswith(root) for root in _paths(user, action))


def can_any(user, action: Action) -> bool:
    """Does the user hold this kind of role anywhere (e.g. to show a menu entry)?"""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or bool(_paths(user, action))


def scope(user, action: Action, field: str = "organization") -> Q:
    """A filter on ``<field>`` (a foreign key to Organization) for rows the user may act on.

    Use ``field=""`` to filter Organization itself.
    """
    prefix = f"{field}__" if field else ""
    if not (user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    roots = _paths(user, action)
    if not roots:
        return Q(pk__in=[])
    condition = Q()
    for root in roots:
        condition |= Q(**{f"{prefix}path__startswith": root})
    return condition


def organizations_for(user, action: Action) -> QuerySet[Organization]:
    return Organization.objects.filter(scope(user, action, field=""))


def organization_get(user, action: Action, pk) -> Organization:
    """The organization with this id if the user may act on it, else 404."""
    try:
        return organizations_for(user, action).get(pk=pk)
    except (Organization.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def require(user, action: Action, organization: Organization) -> None:
    """404 unless the user may act on the organization (not 403: no leak of existence)."""
    if not can(user, action, organization):
        raise Http404
