"""Fixtures of the dashboard tests: counted ratings on chosen days, then cells and figures rebuilt."""

import itertools
from datetime import date

import pytest
from django.test import TestCase

from dashboards import services
from evaluations.models import Evaluation
from scores import services as score_services

_serial = itertools.count()


def add_ratings(brand, grades, day: date, group: str = "masses", state: str = "counted") -> None:
    Evaluation.objects.bulk_create(
        Evaluation(
            brand=brand,
            organization_id=brand.organization_id,
            overall=grade,
            rater_group=group,
            receipt=f"T{next(_serial):015d}",
            device_hash=f"device-{next(_serial)}",
            ip_hash="ip",
            rated_on=day,
            state=state,
        )
        for grade in grades
    )


def rebuild(today: date | None = None) -> None:
    # The full job renews the scores' version on commit; inside a test's transaction, run that now.
    with TestCase.captureOnCommitCallbacks(execute=True):
        score_services.scores_recompute_full()
    services.figures_refresh(today=today)


@pytest.fixture
def rebuilt():
    return rebuild
