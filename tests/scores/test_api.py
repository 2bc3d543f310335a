"""The scores API: the rankings (public, ordered, filtered, rank change, field errors, constant queries)
and a brand's monthly series."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brands.models import Brand
from brands.services import brand_review
from evaluations.models import Evaluation
from scores import services
from scores.api import SeriesPointSerializer
from tests.factories import make_brand
from tests.scores.conftest import OCT, rate

URL = "/api/v1/rankings/"


def ranks(response) -> list[tuple]:
    return [(row["code"], row["rank"]) for row in response.json()["results"]]


@pytest.mark.django_db
def test_anyone_reads_the_ranking_of_a_month_in_order(example, api_client):
    services.scores_recompute_full()
    response = api_client.get(URL, {"period": "2026-11"})
    assert response.status_code == 200
    assert response.json()["count"] == 6
    # C and E are identical records (score, Wilson bound, n): they share rank 3.
    assert ranks(response) == [("B", 1), ("A", 2), ("C", 3), ("E", 3), ("D", 5), ("F", None)]
    assert response.json()["prior"] == {"m": 20.0, "C": 4.125, "estimated": False}
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
        "verified_share": 0.0,
        "enough_ratings": True,
        "grades": {"5": 6, "4": 2, "3": 1, "2": 0, "1": 1},
    }
    assert first["score"] == pytest.approx(4.15, rel=1e-12)
    assert response.json()["results"][5]["enough_ratings"] is False


@pytest.mark.django_db
def test_domain_parent_and_rater_group_filters_rank_within_their_scope(example, api_client, tree):
    services.scores_recompute_full()
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
    services.scores_recompute_full()
    october = ranks(api_client.get(URL, {"period": "2026-10"}))
    # C = 73 / 21; B and G are identical records (five 3s): they share a rank, listed by code.
    assert october == [("A", 1), ("B", 2), ("G", 2), ("H", 4)]
    rows = {row["code"]: row["rank_change"] for row in api_client.get(URL, {"period": "2026-11"}).json()["results"]}
    assert rows == {"B": 1, "A": -1, "C": None, "E": None, "D": None, "F": None}
    assert api_client.get(URL, {"period": "all"}).json()["results"][0]["rank_change"] is None


@pytest.mark.django_db
def test_brands_no_longer_public_are_not_listed(example, api_client):
    Brand.objects.filter(code="B").update(status=Brand.Status.REVOKED)
    services.scores_recompute_full()
    assert ranks(api_client.get(URL, {"period": "2026-11"})) == [("A", 1), ("C", 2), ("E", 2), ("D", 4), ("F", None)]


@pytest.mark.django_db
def test_the_total_is_counted_once_until_scores_or_public_brands_change(
    example, api_client, city_reviewer, django_capture_on_commit_callbacks
):
    def total() -> tuple[int, bool]:
        with CaptureQueriesContext(connection) as queries:
            count = api_client.get(URL, {"period": "2026-11"}).json()["count"]
        return count, any("COUNT(" in query["sql"] for query in queries.captured_queries)

    with django_capture_on_commit_callbacks(execute=True):
        services.scores_recompute_full()
    assert total() == (6, True)
    assert total() == (6, False)
    with django_capture_on_commit_callbacks(execute=True):
        brand_review(user=city_reviewer, brand=example["B"], decision="revoke", comment="no longer run")
    assert total() == (5, True)
    rate(make_brand(example["A"].organization, "I"), [5])
    with django_capture_on_commit_callbacks(execute=True):
        services.scores_fold_incremental()
    assert total() == (6, True)
    assert total() == (6, False)


@pytest.mark.django_db
def test_a_repeated_request_is_answered_from_the_cache_until_a_scoring_job_commits(
    example, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.scores_recompute_full()
    first = api_client.get(URL, {"period": "2026-11"}).json()
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(URL, {"period": "2026-11"}).json() == first
    assert len(queries) == 0
    # Another query string has its own answer.
    assert ranks(api_client.get(URL, {"period": "2026-11", "page_size": 2})) == [("B", 1), ("A", 2)]
    rate(example["F"], [5, 5, 5, 5])
    with django_capture_on_commit_callbacks(execute=True):
        services.scores_fold_incremental()
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
    services.scores_recompute_full()
    response = api_client.get(URL, {"page_size": 2})
    assert response.json()["count"] == 8
    assert ranks(response) == [("B", 1), ("A", 2)]


def _brands_with_scores(tree, count: int) -> None:
    for index in range(count):
        rate(make_brand(tree["grid"], f"Q{index:02d}"), [5, 4, 4, 3, 5], rater_group=Evaluation.RaterGroup.MASSES)
    services.scores_recompute_full()


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 20])
def test_rankings_api_queries_do_not_grow_with_rows(tree, api_client, rows):
    _brands_with_scores(tree, rows)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(URL, {"period": "2026-11"})
    assert len(response.json()["results"]) == rows
    # The periods' sums (for m and C); the page with its total, brand, organization and previous rank.
    assert len(queries) == 2


@pytest.mark.django_db
def test_a_brands_monthly_series_scores_each_month_against_its_own_prior(example, api_client):
    rate(example["A"], [5, 4], day=OCT)
    services.scores_recompute_full()
    response = api_client.get("/api/v1/brands/A/scores/")
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["group"], [month["period"] for month in body["months"]]) == (
        "A",
        "",
        ["2026-10", "2026-11"],
    )
    october, november = body["months"]
    assert list(october) == list(SeriesPointSerializer().fields)  # what the schema documents
    # October: A's 5 and 4 among G's and H's 3s: C = 42 / 13; m = 20 (fixed in these tests).
    assert (october["n"], october["mean"], october["m"], october["bad_rate"]) == (2, 4.5, 20.0, 0.0)
    assert october["C"] == pytest.approx(42 / 13, rel=1e-12)
    assert october["score"] == pytest.approx((9 + 20 * 42 / 13) / 22, rel=1e-12)
    # November as in the ranking: 4.15, with its interval ± 1.96·√(σ²w / (n + m)).
    assert (november["n"], november["net_score"]) == (10, 50.0)
    assert november["score"] == pytest.approx(4.15, rel=1e-12)
    half = november["score"] - november["low"]
    assert november["high"] - november["score"] == pytest.approx(half, rel=1e-9)
    # σ²w pooled over November's brands: (Σ squares − Σ sum²/n) / (N − k) = (582 − 553.9) / (32 − 6).
    assert half == pytest.approx(1.96 * ((582 - 553.9) / 26 / 30) ** 0.5, rel=1e-9)
    members = api_client.get("/api/v1/brands/B/scores/", {"group": "member"}).json()["months"]
    assert [(month["period"], month["n"], month["score"]) for month in members] == [("2026-11", 5, 5.0)]
    assert api_client.get("/api/v1/brands/A/scores/", {"group": "member"}).json()["months"] == []


@pytest.mark.django_db
def test_the_series_of_a_brand_not_public_is_404_and_a_bad_group_400(example, api_client, tree):
    draft = make_brand(tree["grid"], "DR", status=Brand.Status.DRAFT)
    rate(draft, [5, 5, 5, 5, 5])
    services.scores_recompute_full()
    assert api_client.get("/api/v1/brands/DR/scores/").status_code == 404
    assert api_client.get("/api/v1/brands/nope/scores/").status_code == 404
    response = api_client.get("/api/v1/brands/A/scores/", {"group": "robots"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {"group": ["Select a valid choice. robots is not one of the available choices."]}


@pytest.mark.django_db
@pytest.mark.parametrize("months", [1, 12])
def test_the_series_queries_do_not_grow_with_months(tree, api_client, months):
    brand = make_brand(tree["grid"], "S")
    for month in range(1, months + 1):
        rate(brand, [5, 4], day=datetime.date(2026, month, 5))
    services.scores_recompute_full()
    with CaptureQueriesContext(connection) as queries:
        assert len(api_client.get("/api/v1/brands/S/scores/").json()["months"]) == months
    assert len(queries) == 4  # the brand, its months, the months' sums (m and C), the series


@pytest.mark.django_db
def test_an_organization_renamed_in_the_admin_shows_at_the_next_read(
    example, api_client, tree, rf, django_capture_on_commit_callbacks
):
    from django.contrib import admin

    from organizations.models import Organization

    services.scores_recompute_full()

    def names() -> dict[str, str]:
        return {row["code"]: row["organization"] for row in api_client.get(URL).json()["results"]}

    assert names()["A"] == "华阳路第一网格党支部"
    grid = Organization.objects.get(pk=tree["grid"].pk)
    grid.name = "华阳路网格党支部"
    with django_capture_on_commit_callbacks(execute=True):
        admin.site._registry[Organization].save_model(rf.post("/admin/"), grid, form=None, change=True)
    assert names()["A"] == "华阳路网格党支部"  # the cached answer keyed on the organizations' version


@pytest.mark.django_db
def test_pages_link_to_each_other_and_a_page_past_the_end_is_404(example, api_client):
    services.scores_recompute_full()
    second = api_client.get(URL, {"period": "2026-11", "page_size": 2, "page": 2}).json()
    assert (second["count"], ranks_of(second)) == (6, [("C", 3), ("E", 3)])
    assert second["next"].endswith("page=3&page_size=2&period=2026-11")
    assert second["previous"].endswith("page_size=2&period=2026-11")
    assert api_client.get(URL, {"period": "2026-11", "page_size": 2, "page": 4}).status_code == 404
    assert api_client.get(URL, {"period": "2026-11", "page": "x"}).status_code == 404


def ranks_of(body) -> list[tuple]:
    return [(row["code"], row["rank"]) for row in body["results"]]
