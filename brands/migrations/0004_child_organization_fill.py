"""Tenancy, step 2 of 3: copy each child row's organization from its brand, one UPDATE per table.

Kept apart from 0003 and 0005: on PostgreSQL, rows updated under a deferred foreign
key cannot be followed by ALTER TABLE in the same transaction.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery

# (model, its parent model, the field leading to the parent), parents before children,
# so each table copies from a parent whose organization is already filled in.
STEPS = (
    ("BrandTransition", "Brand", "brand_id"),
    ("Commitment", "Brand", "brand_id"),
    ("Plan", "Brand", "brand_id"),
    ("Case", "Brand", "brand_id"),
    ("Milestone", "Plan", "plan_id"),
    ("ProgressReport", "Milestone", "milestone_id"),
    ("ReportPhoto", "ProgressReport", "report_id"),
)


def fill(apps, schema_editor):
    for model_name, parent_name, parent_field in STEPS:
        model = apps.get_model("brands", model_name)
        parent = apps.get_model("brands", parent_name)
        organization = parent.objects.filter(pk=OuterRef(parent_field)).values("organization_id")[:1]
        model.objects.filter(organization__isnull=True).update(organization_id=Subquery(organization))


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0003_child_organization_add"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
    ]
