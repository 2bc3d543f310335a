"""Rebuild the dashboard's figures and evaluate the warning rules now (the hourly job does it too)."""

from django.core.management.base import BaseCommand

from dashboards import services


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        figures = services.figures_refresh()
        warnings = services.warnings_evaluate()
        self.stdout.write(
            f"{figures['rows']} figure rows over {figures['periods']} periods; "
            f"warnings: {warnings['firing']} firing, {warnings['opened']} opened, {warnings['resolved']} resolved"
        )
