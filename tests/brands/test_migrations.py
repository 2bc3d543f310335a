"""The tenancy migrations: 0003 adds a nullable ``organization``, 0004 copies it from the brand, 0005 requires it."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.brands.conftest import child_organization_counts

BEFORE = [("brands", "0003_child_organization_add")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_fill_copies_each_childs_organization_from_its_brand():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    apps = migrate(BEFORE)
    Organization = apps.get_model("organizations", "Organization")
    User = apps.get_model("organizations", "User")
    Brand = apps.get_model("brands", "Brand")
    get = apps.get_model
    author = User.objects.create(username="author")
    for n, name in enumerate(("甲", "乙")):
        org = Organization.objects.create(name=name, path=f"000{n + 1}", depth=1, level="committee")
        brand = Brand.objects.create(organization=org, code=f"MIG{n}", name=name)
        get("brands", "BrandTransition").objects.create(
            brand=brand, actor=author, decision="submit", from_status="draft", to_status="submitted"
        )
        get("brands", "Commitment").objects.create(brand=brand, text="c")
        get("brands", "Case").objects.create(brand=brand, title="t", summary="s", body="b", author=author)
        plan = get("brands", "Plan").objects.create(brand=brand, start_year=2025, end_year=2026, goals="g")
        milestone = get("brands", "Milestone").objects.create(plan=plan, title="m", due_date="2025-06-30")
        report = get("brands", "ProgressReport").objects.create(milestone=milestone, author=author, text="r")
        get("brands", "ReportPhoto").objects.create(report=report, image="x.jpg", thumbnail="t.jpg")
    assert get("brands", "ReportPhoto").objects.filter(organization__isnull=True).count() == 2

    migrate(latest)
    assert child_organization_counts() == {
        name: (2, 0)
        for name in ("BrandTransition", "Commitment", "Plan", "Case", "Milestone", "ProgressReport", "ReportPhoto")
    }

    migrate(BEFORE)  # the fill reverses as a no-op; the column becomes nullable again and keeps its values
    assert get("brands", "Milestone").objects.filter(organization__isnull=True).count() == 0
    migrate(latest)
