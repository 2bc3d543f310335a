"""Tenancy, step 1 of 3: every child row of a brand gets a nullable ``organization`` (indexed FK)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("brands", "0002_programme"),
        ("organizations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="brandtransition",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="brand_transitions",
                to="organizations.organization",
                verbose_name="organization",
            ),
        ),
        migrations.AddField(
            model_name="commitment",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="brand_commitments",
                to="organizations.organization",
                verbose_name="organization",
            ),
        ),
        migrations.AddField(
            model_name="plan",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="brand_plans",
                to="organizations.organization",
                verbose_name="organization",
            ),
        ),
        migrations.AddField(
            model_name="milestone",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="brand_milestones",
                to="organizations.organization",
                verbose_name="organization",
            ),
        ),
        migrations.AddField(
            model_name="progressreport",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="brand_progress_reports",
                to="organizations.organization",
                verbose_name="organization",
            ),
        ),
        migrations.AddField(
            model_name="reportphoto",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="brand_report_photos",
                to="organizations.organization",
                verbose_name="organization",
            ),
        ),
        migrations.AddField(
            model_name="case",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="brand_cases",
                to="organizations.organization",
                verbose_name="organization",
            ),
        ),
    ]
