"""The rectification notices move to the one outbox, organizations.Notice, and evaluations.Notification goes.

Each row becomes a notice with the same recipient, event and times: sent ones stay sent (and in their digest),
pending ones (left for the digest) wait for the next digest. The notices the old tasks still owed — a
rectification opened in the last two days, or reminded of a deadline still ahead, with no row yet (its task
queued or lost when this runs) — are written as pending, for the new sweep to send: what the old sweep,
``evaluations.notifications_deliver_missed``, would have done. Subject and body are rendered as the
services render them, in the site's language.
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

MANAGING_ROLES = ("secretary", "staff")


def _name(user) -> str:
    """What organizations.User.__str__ says (a historical model has no methods of its own)."""
    return user.display_name or f"{user.first_name} {user.last_name}".strip() or user.username


def to_outbox(apps, schema_editor):
    Notification = apps.get_model("evaluations", "Notification")
    Rectification = apps.get_model("evaluations", "Rectification")
    Membership = apps.get_model("organizations", "Membership")
    Notice = apps.get_model("organizations", "Notice")
    site = (settings.SITE_URL or settings.SITE_URL_DEFAULT).rstrip("/")
    now = timezone.now()

    def notice(user, rectification, kind, **fields):
        event = f"due:{rectification.due_on:%Y-%m-%d}" if kind == "due" else kind
        link = f"{site}/workspace/rectifications/{rectification.pk}/"
        labels = {"opened": _("A rectification was opened"), "due": _("A rectification is due tomorrow")}
        values = {"rectification": rectification, "kind": kind, "kind_label": labels[kind], "link": link}
        values["name"] = _name(user)
        subject = render_to_string("evaluations/mail/notification_subject.txt", values)
        return Notice(
            recipient_id=user.pk,
            key=f"rectification:{rectification.pk}:{event}",
            kind=f"rectification_{kind}",
            subject=" ".join(subject.split())[:200],
            body=render_to_string("evaluations/mail/notification.txt", values).strip() + "\n",
            link=link,
            **fields,
        )

    notices = []
    with translation.override(settings.LANGUAGE_CODE):
        rows = Notification.objects.select_related("recipient", "rectification__brand").order_by("pk")
        for row in rows.iterator():
            notices.append(
                notice(
                    row.recipient,
                    row.rectification,
                    row.kind,
                    status="sent" if row.sent_at else "digest",
                    attempts=1 if row.sent_at and not row.in_digest else 0,
                    next_attempt_at=row.created_at,
                    created_at=row.created_at,
                    sent_at=row.sent_at,
                    in_digest=row.in_digest,
                )
            )
        owed = {
            "opened": Rectification.objects.filter(created_at__gte=now - timedelta(days=2)),
            "due": Rectification.objects.filter(status__in=("open", "reopened"), reminded_on__gte=now.date()),
        }
        for kind, rectifications in owed.items():
            for rectification in rectifications.exclude(notifications__kind=kind).select_related("brand"):
                memberships = Membership.objects.filter(
                    organization_id=rectification.organization_id, role__in=MANAGING_ROLES, user__is_active=True
                ).exclude(user__email="")
                users = {m.user_id: m.user for m in memberships.select_related("user").order_by("user_id")}
                notices += [notice(user, rectification, kind, status="pending") for user in users.values()]
    Notice.objects.bulk_create(notices, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0010_encounters_and_surges"),
        ("organizations", "0004_notice"),
    ]

    operations = [
        migrations.RunPython(to_outbox, migrations.RunPython.noop),
        migrations.DeleteModel(name="Notification"),
    ]
