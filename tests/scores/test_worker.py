"""With a real Celery worker and Redis, a new rating reaches the rankings API by itself within seconds."""

import time

import pytest

from tests.factories import make_brand


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_submitted_rating_reaches_the_rankings_api_within_seconds(celery_worker_process, tree, api_client):
    make_brand(tree["grid"], "W1")
    # Five citizens on five networks rate through the public API; nothing here runs a job by hand.
    for i, grade in enumerate([5, 4, 5, 5, 4]):
        response = api_client.post(
            "/api/v1/brands/W1/evaluations/",
            {"overall": grade},
            format="json",
            REMOTE_ADDR=f"10.0.{i}.1",
            HTTP_X_DEVICE_ID=f"phone-{i}",
        )
        assert response.status_code == 201
    deadline = time.monotonic() + 15
    rows = []
    while time.monotonic() < deadline:
        rows = api_client.get("/api/v1/rankings/", {"period": "all"}).json()["results"]
        if rows and rows[0]["n"] == 5:
            break
        time.sleep(0.25)
    assert [(row["code"], row["n"], row["rank"], row["mean"]) for row in rows] == [("W1", 5, 1, 4.6)]
