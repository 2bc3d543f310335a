"""GET /api/v1/rankings/: public, ordered rows, filters, rank change, field errors, constant queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brands.models import Brand
from brands.services import brand_review
from evaluations import scoring
from evaluations.models import Evaluation
from tests.evaluations.conftest import OCT, rate
from tests.factories import make_brand

URL = "/api/v1/rankings/"


def ranks(response) -> list[tuple]:
    return [(row["code"], row["rank"]) for row in response.json()["results"]]


@pytest.mark.django_db
def test_anyone_reads_the_ranking_of_a_month_in_order(example, api_client):
    scoring.scores_recompute_full()
    response = api_client.get(URL, {"period": "2026-11"})
    assert response.status_code == 200
    assert response.json()["count"] == 6
    assert ranks(response) == [("B", 1), ("A", 2), ("C", 3), ("E", 4), ("D", 5), ("F", None)]
    first = response.json()["results"][1]
    assert {key: first[key] for key in first if key not in ("score", "wilson", "organization_id")} == {
        "rank": 2,
        "rank_change": None,
        "code": "A",
        "name": "品牌A",
        "organization": "华阳路第一网格党支部",
        "domain": "community",
        "n": 10,
        "mean": 4.2,
        "net_score": 50.0,
        "bad_rate": 0.1,
        "enough_ratings": True,
        "grades": {"5": 6, "4": 2, "3": 1, "2": 0, "1": 1},
    }
    assert first["score"] == pytest.approx(4.15, rel=1e-12)
    assert response.json()["results"][5]["enough_ratings"] is False


@pytest.mark.django_db
def test_domain_parent_and_rater_group_filters_rank_within_their_scope(example, api_client, tree):
    scoring.scores_recompute_full()
    assert ranks(api_client.get(URL, {"period": "2026-11", "domain": "soe"})) == [("C", 1), ("D", 2)]
    assert ranks(api_client.get(URL, {"period": "2026-11", "parent": tree["community"].pk})) == [
        ("A", 1),
        ("E", 2),
        ("F", None),
    ]
    assert ranks(api_client.get(URL, {"period": "2026-11", "group": "member"})) == [("B", 1)]
    # In the quarter C = 165 / 43 ≈ 3.84 > 3, so the mean-3 brand with fewer ratings (G) is pulled up further.
    assert ranks(api_client.get(URL, {"period": "2026-Q4", "domain": "organ"})) == [("G", 1), ("H", 2)]


@pytest.mark.django_db
def test_rank_change_compares_with_the_previous_period_of_the_same_kind(example, api_client):
    rate(example["B"], [3, 3, 3, 3, 3], day=OCT)
    rate(example["A"], [5, 5, 5, 5, 5], day=OCT)
    scoring.scores_recompute_full()
    october = ranks(api_client.get(URL, {"period": "2026-10"}))
    # C = 73 / 21; B and G tie on score (15 of 5), Wilson (0) and n (5): code decides.
    assert october == [("A", 1), ("B", 2), ("G", 3), ("H", 4)]
    rows = {row["code"]: row["rank_change"] for row in api_client.get(URL, {"period": "2026-11"}).json()["results"]}
    assert rows == {"B": 1, "A": -1, "C": None, "E": None, "D": None, "F": None}
    assert api_client.get(URL, {"period": "all"}).json()["results"][0]["rank_change"] is None


@pytest.mark.django_db
def test_brands_no_longer_public_are_not_listed(example, api_client):
    Brand.objects.filter(code="B").update(status=Brand.Status.REVOKED)
    scoring.scores_recompute_full()
    assert ranks(api_client.get(URL, {"period": "2026-11"})) == [("A", 1), ("C", 2), ("E", 3), ("D", 4), ("F", None)]


@pytest.mark.django_db
def test_the_total_is_counted_once_until_scores_or_public_brands_change(
    example, api_client, city_reviewer, django_capture_on_commit_callbacks
):
    def total() -> tuple[int, bool]:
        with CaptureQueriesContext(connection) as queries:
            count = api_client.get(URL, {"period": "2026-11"}).json()["count"]
        return count, any("COUNT(" in query["sql"] for query in queries.captured_queries)

    with django_capture_on_commit_callbacks(execute=True):
        scoring.scores_recompute_full()
    assert total() == (6, True)
    assert total() == (6, False)
    with django_capture_on_commit_callbacks(execute=True):
        brand_review(user=city_reviewer, brand=example["B"], decision="revoke", comment="no longer run")
    assert total() == (5, True)
    rate(make_brand(example["A"].organization, "I"), [5])
    with django_capture_on_commit_callbacks(execute=True):
        scoring.scores_fold_incremental()
    assert total() == (6, True)
    assert total() == (6, False)


@pytest.mark.django_db
def test_a_repeated_request_is_answered_from_the_cache_until_a_scoring_job_commits(
    example, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        scoring.scores_recompute_full()
    first = api_client.get(URL, {"period": "2026-11"}).json()
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(URL, {"period": "2026-11"}).json() == first
    assert len(queries) == 0
    # Another query string has its own answer.
    assert ranks(api_client.get(URL, {"period": "2026-11", "page_size": 2})) == [("B", 1), ("A", 2)]
    rate(example["F"], [5, 5, 5, 5])
    with django_capture_on_commit_callbacks(execute=True):
        scoring.scores_fold_incremental()
    f = next(row for row in api_client.get(URL, {"period": "2026-11"}).json()["results"] if row["code"] == "F")
    assert (f["n"], f["enough_ratings"]) == (6, True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"period": "2026-13"}, {"period": ["Use YYYY-MM, YYYY-Qn, YYYY or all."]}),
        ({"period": "2026-Q5"}, {"period": ["Use YYYY-MM, YYYY-Qn, YYYY or all."]}),
        ({"domain": "moon"}, {"domain": ["Select a valid choice. moon is not one of the available choices."]}),
        ({"parent": "x"}, {"parent": ["Enter a whole number."]}),
        ({"parent": "9" * 30}, {"parent": ["Ensure this value is less than or equal to 9223372036854775807."]}),
        ({"group": "robots"}, {"group": ["Select a valid choice. robots is not one of the available choices."]}),
    ],
)
def test_bad_filters_are_400_with_field_errors(api_client, params, errors):
    response = api_client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == errors


@pytest.mark.django_db
def test_period_defaults_to_all_time_and_page_size_is_adjustable(example, api_client):
    scoring.scores_recompute_full()
    response = api_client.get(URL, {"page_size": 2})
    assert response.json()["count"] == 8
    assert ranks(response) == [("B", 1), ("A", 2)]


def _brands_with_scores(tree, count: int) -> None:
    for index in range(count):
        rate(make_brand(tree["grid"], f"Q{index:02d}"), [5, 4, 4, 3, 5], rater_group=Evaluation.RaterGroup.MASSES)
    scoring.scores_recompute_full()


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 20])
def test_rankings_api_queries_do_not_grow_with_rows(tree, api_client, rows):
    _brands_with_scores(tree, rows)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(URL, {"period": "2026-11"})
    assert len(response.json()["results"]) == rows
    assert len(queries) == 2  # count, rows (brand, organization and previous rank in the same query)
