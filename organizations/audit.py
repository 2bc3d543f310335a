"""The one audit trail: every service that changes state calls ``audit_record`` inside its transaction.

The lowest layer holds it so every app can write to it without importing upward; a target is named by
its model's label and primary key (``"brands.case"``, ``"42"``), never by a foreign key to a higher app.
Actions are ``<entity>.<verb>`` (``brand.approve``, ``case.publish``, ``milestone.complete``); ``before``
and ``after`` hold only the fields the change touched. A change made by the system (a scheduled job, a
citizen's anonymous rating) has no actor.
"""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import AuditEntry, Organization

# What each action is called on the audit page. An action missing here shows as its code.
ACTION_LABELS = {
    "brand.create": _("Brand filed"),
    "brand.update": _("Brand edited"),
    "brand.submit": _("Brand submitted for review"),
    "brand.return": _("Brand returned with comments"),
    "brand.approve": _("Brand approved (cultivating)"),
    "brand.name": _("Brand named"),
    "brand.demonstrate": _("Brand made a demonstration brand"),
    "brand.revoke": _("Brand revoked"),
    "commitment.add": _("Commitment added"),
    "commitment.update": _("Commitment edited"),
    "commitment.delete": _("Commitment removed"),
    "commitment.move": _("Commitment moved"),
    "plan.save": _("Plan saved"),
    "milestone.add": _("Milestone added"),
    "milestone.update": _("Milestone edited"),
    "milestone.complete": _("Milestone completed"),
    "milestone.reopen": _("Milestone reopened"),
    "progress_report.add": _("Progress report written"),
    "case.save": _("Case saved"),
    "case.submit": _("Case submitted for publication"),
    "case.publish": _("Case published"),
    "case.adopt": _("Case adopted"),
    "evaluation.counted": _("Rating counted"),
    "evaluation.flagged": _("Rating held for review"),
    "evaluation.excluded": _("Rating excluded"),
    "comment.publish": _("Comment published"),
    "comment.hide": _("Comment hidden"),
    "rating_codes.issue": _("Rating codes issued"),
    "surge.open": _("Surge held"),
    "surge.reopen": _("Surge held again"),
    "surge.release": _("Surge released"),
    "surge.reject": _("Surge rejected"),
    "rectification.opened": _("Rectification opened"),
    "rectification.responded": _("Rectification answered"),
    "rectification.verdict": _("Rater's verdict"),
    "rectification.reopened": _("Rectification reopened"),
    "rectification.escalated": _("Rectification escalated"),
    "rectification.closed": _("Rectification closed by reviewer"),
    "rectification.overdue": _("Rectification overdue"),
    "rectification.appealed": _("Appeal filed"),
    "rectification.upheld": _("Appeal upheld"),
    "rectification.dismissed": _("Appeal dismissed"),
    "warning.open": _("Warning raised"),
    "warning.resolve": _("Warning resolved"),
    "warning.acknowledge": _("Warning acknowledged"),
    "warning.take_up": _("Warning taken up in a 帮扶 case"),
    "support_case.open": _("帮扶 case opened"),
    "support_case.note": _("帮扶 case note"),
    "support_case.close": _("帮扶 case closed"),
    "support_action.add": _("帮扶 action added"),
    "support_action.done": _("帮扶 action done"),
    "api_token.create": _("API token issued"),
    "api_token.revoke": _("API token revoked"),
    "membership.grant": _("Role granted"),
    "membership.change": _("Role changed"),
    "membership.revoke": _("Role removed"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


_FROM_TARGET = object()


def _actor(actor):
    """The user to record: none for the system and for anonymous callers."""
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model,
    organization: Organization | int | None | object = _FROM_TARGET,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
    label: str | None = None,
) -> AuditEntry:
    """Write one audit row for a change of ``target``, in the caller's transaction.

    ``organization`` is the tenant the row belongs to; left out, it is the target's own ``organization_id``.
    ``label`` names the target for people (default ``str(target)``; pass it when that would cost a query).
    """
    if organization is _FROM_TARGET:
        organization = getattr(target, "organization_id", None)
    organization_id = organization.pk if isinstance(organization, Organization) else organization
    meta = target._meta
    return AuditEntry.objects.create(
        actor=_actor(actor),
        organization_id=organization_id,
        action=action,
        target_type=f"{meta.app_label}.{meta.model_name}",
        target_id=str(target.pk),
        target_label=(str(target) if label is None else label)[:200],
        before=before or {},
        after=after or {},
        detail=(detail or "")[:4000],
    )


def audit_changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose values differ, as (before, after): an edit records what it changed, nothing else.

    A field missing from ``before`` (the row is new) has no before value.
    """
    changed = [key for key in after if key not in before or before[key] != after[key]]
    return {key: before[key] for key in changed if key in before}, {key: after[key] for key in changed}


def _membership_values(membership) -> dict[str, Any]:
    return {"user": membership.user.username, "organization": membership.organization.name, "role": membership.role}


def audit_membership(*, actor, membership, action: str, before=None) -> AuditEntry:
    """A role granted, changed or removed (in the admin): who holds what where, before and after.

    ``before`` is the membership as it was stored (for a change); a removal is recorded before the delete,
    while the row still has its id. The row belongs to the organization the role is on.
    """
    removed = action == "membership.revoke"
    old = _membership_values(membership if removed else before) if (removed or before is not None) else {}
    new = {} if removed else _membership_values(membership)
    old, new = audit_changes(old, new) if old and new else (old, new)
    return audit_record(
        actor=actor,
        action=action,
        target=membership,
        organization=membership.organization_id,
        before=old,
        after=new,
        label=str(membership.user),
    )
