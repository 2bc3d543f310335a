"""With a real Celery worker and Redis, a new rating reaches the rankings API by itself within seconds."""

import time

import pytest

from evaluations import scoring
from tests.evaluations.conftest import rate
from tests.factories import make_brand


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_submitted_rating_reaches_the_rankings_api_within_seconds(celery_worker_process, tree, api_client):
    brand = make_brand(tree["grid"], "W1")
    rate(brand, [5, 4, 5, 5, 4])
    # What the submission service does after its commit; nothing here runs the job by hand.
    assert scoring.request_refresh() is True
    deadline = time.monotonic() + 15
    rows = []
    while time.monotonic() < deadline:
        rows = api_client.get("/api/v1/rankings/", {"period": "all"}).json()["results"]
        if rows:
            break
        time.sleep(0.25)
    assert [(row["code"], row["n"], row["rank"], row["mean"]) for row in rows] == [("W1", 5, 1, 4.6)]
