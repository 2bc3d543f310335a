"""The submit path's round trips: with the cache warm a plain rating is one INSERT, and the surge rule's
cached figures follow every rating and every decision."""

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evaluations import fastpath, services, surges
from evaluations.models import Evaluation, Surge
from tests.evaluations.test_views import rate

pytestmark = pytest.mark.django_db

SUBMIT_API = "/api/v1/brands/hyl01/evaluations/"


def post(client, address: str, overall: int = 5):
    return client.post(SUBMIT_API, {"overall": overall}, content_type="application/json", REMOTE_ADDR=address)


def test_with_the_cache_warm_a_plain_rating_is_one_insert_and_nothing_else(brand):
    client = Client()
    assert post(client, "10.0.0.1").status_code == 201  # reads the brand, the surge rule's counts, the day's key
    with CaptureQueriesContext(connection) as queries:
        response = post(client, "10.0.0.2")
    assert response.status_code == 201
    assert [query["sql"].split()[0] for query in queries] == ["INSERT"]
    assert response.json()["status"] == "counted"


def test_the_form_reads_its_brand_from_the_cache_too(brand, client):
    assert rate(client, overall="5", rater_group="masses").status_code == 302
    other = Client(REMOTE_ADDR="10.0.0.9")
    with CaptureQueriesContext(connection) as queries:
        response = rate(other, overall="4", rater_group="masses")
    assert response.status_code == 302
    assert [query["sql"].split()[0] for query in queries] == ["INSERT"]


@override_settings(EVALUATION_POW_SOFT_LIMIT=10_000, EVALUATION_BURST_LIMIT=10_000, SURGE_MIN_COUNT=3)
def test_the_cached_count_follows_each_rating_and_a_decision_shows_at_the_next_rating(brand, district_reviewer):
    client = Client()
    today = timezone.localdate()
    states = [post(client, f"10.1.{i}.1").json()["status"] for i in range(9)]
    # SURGE_MIN_DAILY = 1 a day: more than 6 in a day is held (Poisson tail), so the 7th rating opens the surge
    assert states == ["counted"] * 6 + ["held"] * 3
    # what the cache says (the next rating's figure) is what the database says
    assert fastpath.get_json(surges.day_count_key(brand.code, today)) == 9
    assert surges.unverified_recent(brand=brand, today=today) == (9, 9)
    surge = Surge.objects.get()
    services.surge_decide(surge=surge, release=True, actor=district_reviewer)
    assert post(client, "10.1.9.1").json()["status"] == "counted"
    assert Evaluation.objects.filter(state="counted").count() == 10


@override_settings(EVALUATION_POW_SOFT_LIMIT=10_000, EVALUATION_BURST_LIMIT=10_000, SURGE_MIN_COUNT=3)
def test_a_surge_opened_elsewhere_is_read_from_the_database_once_the_cached_state_is_gone(brand):
    client = Client()
    today = timezone.localdate()
    assert post(client, "10.2.0.1").json()["status"] == "counted"
    # another process opened a surge and cached it; this one reads the cache
    surge = Surge.objects.create(
        brand=brand, organization_id=brand.organization_id, day=today, expected=1, own_rate=0, peer_rate=0, threshold=3
    )
    surges.remember_state(code=brand.code, today=today, surge=surge)
    response = post(client, "10.2.0.2")
    assert (response.json()["status"], response.json()["reasons"]) == ("held", ["surge"])
    assert Evaluation.objects.get(receipt=response.json()["receipt"]).surge_id == surge.pk
