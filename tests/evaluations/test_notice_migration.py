"""evaluations 0011: the rectification notices move into the outbox, and the ones still owed are written."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.utils import timezone

from organizations.models import Notice

BEFORE = [("evaluations", "0010_encounters_and_surges"), ("organizations", "0004_notice")]
AFTER = [("evaluations", "0011_notifications_to_notice_outbox")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
@override_settings(SITE_URL="https://dj.example.cn")
def test_notifications_become_notices_and_the_owed_ones_are_written():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    apps = migrate(BEFORE)
    get = apps.get_model
    org = get("organizations", "Organization").objects.create(
        name="华阳路社区党委", path="0001", depth=1, level="committee"
    )
    User = get("organizations", "User")
    secretary = User.objects.create(username="secretary", email="s@example.org", display_name="王芳")
    staff = User.objects.create(username="staff", email="t@example.org", first_name="明", last_name="李")
    User.objects.create(username="reviewer", email="r@example.org")
    for user, role in ((secretary, "secretary"), (staff, "staff")):
        get("organizations", "Membership").objects.create(user=user, organization=org, role=role)
    brand = get("brands", "Brand").objects.create(organization=org, code="MIG1", name="红色家园", status="cultivating")
    now = timezone.now()

    def rectification(n, **fields):
        evaluation = get("evaluations", "Evaluation").objects.create(
            brand=brand,
            organization=org,
            overall=1,
            receipt=f"RECEIPT{n}",
            created_at=now,
            rated_on=now.date(),
            device_hash=f"d{n}",
        )
        fields.setdefault("due_on", date(2026, 12, 8))
        return get("evaluations", "Rectification").objects.create(
            evaluation=evaluation, brand=brand, organization=org, **fields
        )

    notified, owed, old = rectification(1), rectification(2), rectification(3, created_at=now - timedelta(days=3))
    Notification = get("evaluations", "Notification")
    Notification.objects.create(recipient=secretary, rectification=notified, kind="opened", sent_at=now)
    Notification.objects.create(recipient=staff, rectification=notified, kind="opened")  # waiting for the digest

    migrate(AFTER)
    rows = Notice.objects.order_by("pk").values_list("recipient__username", "key", "status", "sent_at", "subject")
    assert list(rows) == [
        ("secretary", f"rectification:{notified.pk}:opened", "sent", now, "【党建品牌平台】新的整改：红色家园"),
        ("staff", f"rectification:{notified.pk}:opened", "digest", None, "【党建品牌平台】新的整改：红色家园"),
        # Owed: opened two days ago at most, no notification yet. The older one's news is stale.
        ("secretary", f"rectification:{owed.pk}:opened", "pending", None, "【党建品牌平台】新的整改：红色家园"),
        ("staff", f"rectification:{owed.pk}:opened", "pending", None, "【党建品牌平台】新的整改：红色家园"),
    ]
    body = Notice.objects.get(recipient__username="staff", key__endswith=f"{owed.pk}:opened").body
    assert body == (
        "明 李，您好：\n\n“红色家园”收到一条差评，请在2026-12-08前答复。\n\n"
        f"https://dj.example.cn/workspace/rectifications/{owed.pk}/\n"
    )
    assert not Notice.objects.filter(key__startswith=f"rectification:{old.pk}:").exists()
    migrate(latest)
