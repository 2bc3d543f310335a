"""Half-empty pages for the coarser cells on PostgreSQL, so that a fold updates them in place.

A fold rewrites the quarter, year and all-time cells (and the current month's) of every brand it
touches. With full pages each new row version goes to another page and both indexes get an entry for
it; with room on the page PostgreSQL keeps the version there without touching an index (a HOT update),
which cuts a fold's writes by more than half. The full job builds the month cells densely and the
coarser ones under this setting (`scores.services._build_and_swap` copies it).
"""

from django.db import migrations


def half_empty(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE scores_scorecell SET (fillfactor = 50)")


def dense(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE scores_scorecell RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("scores", "0002_verified_counts")]

    operations = [migrations.RunPython(half_empty, dense)]
