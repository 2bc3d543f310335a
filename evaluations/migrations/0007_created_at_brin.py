# The created_at index becomes BRIN on PostgreSQL: ratings are appended in time order, so a
# block-range index finds the recent ones (the score jobs' overlap window) while costing the
# submit path's insert almost nothing. Other databases keep a B-tree.

import django.utils.timezone
from django.db import migrations, models

INDEX = "evaluation_created_at"


def create_index(apps, schema_editor):
    method = "USING brin " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"CREATE INDEX {INDEX} ON evaluations_evaluation {method}(created_at)")


def drop_index(apps, schema_editor):
    # IF EXISTS: on SQLite a later table rebuild (adding a column) drops an index Django does not know of.
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('evaluations', '0006_submit_path_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='evaluation',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at'),
        ),
        migrations.RunPython(create_index, drop_index),
    ]
