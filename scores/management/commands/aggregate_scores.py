"""`manage.py aggregate_scores [--full]`: fold new ratings into scores now, or rebuild them all."""

import time

from django.core.management.base import BaseCommand

from scores import services


class Command(BaseCommand):
    help = "Fold new ratings and state changes into brand scores; --full rebuilds every cell."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Recompute every period from the ratings table.")

    def handle(self, *args, **options):
        started = time.monotonic()
        if options["full"]:
            result = services.scores_recompute_full()
            label = "full recompute"
        else:
            result = services.scores_fold_incremental()
            label = "incremental fold"
        summary = ", ".join(f"{key}={value}" for key, value in result.items())
        self.stdout.write(f"{label}: {summary} in {time.monotonic() - started:.2f} s")
