"""The dashboard's hourly job: rebuild the figures, then evaluate the warning rules."""

from celery import shared_task

from dashboards import services


@shared_task(name="dashboards.refresh")
def refresh() -> dict:
    figures = services.figures_refresh()
    warnings = services.warnings_evaluate()
    return {**figures, **warnings}
