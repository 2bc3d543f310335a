# Scores moved to the `scores` app (additive cells; scores and ranks derived when read). The old derived
# tables go; the scores app's first fold or `aggregate_scores --full` rebuilds its cells from the ratings.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("evaluations", "0008_scorewatermark_brand_transition"),
    ]

    operations = [
        migrations.DeleteModel(name="BrandScore"),
        migrations.DeleteModel(name="ScoreDirtyMonth"),
        migrations.DeleteModel(name="ScoreWatermark"),
    ]
