"""The public /rankings/ page, its CSV download with the field dictionary, and the brand score partial."""

import csv
import io

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from scores import services
from scores.selectors import CSV_FIELDS
from tests.factories import make_brand
from tests.scores.conftest import rate


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.django_db
def test_the_page_lists_ranked_brands_then_those_without_enough_ratings(example, client):
    services.scores_recompute_full()
    response = client.get("/rankings/", {"period": "2026-11"})
    assert response.status_code == 200
    page = response.context["page"]
    assert [(row.code, row.rank) for row in page.object_list] == [
        ("B", 1),
        ("A", 2),
        ("C", 3),
        ("E", 3),
        ("D", 5),
        ("F", None),
    ]
    html = response.content.decode()
    assert "评价数不足" in html  # "not enough ratings"
    assert html.count('class="grade-bar"') == 6
    # A's bar: 6 of 10 grade 5, 2 grade 4, 1 grade 3, 1 grade 1.
    assert '<rect class="grade-bar-5" x="0.000" y="0" width="60.000" height="10">' in html
    assert '<rect class="grade-bar-1" x="90.000" y="0" width="10.000" height="10">' in html
    assert response.context["periods"] == ["all", "2026", "2026-Q4", "2026-11", "2026-10"]


@pytest.mark.django_db
def test_bad_filters_on_the_page_show_the_error_not_a_500(client):
    response = client.get("/rankings/", {"period": "last week"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Use YYYY-MM, YYYY-Qn, YYYY or all." in response.content.decode()
    assert response.context["page"] is None
    # An id too long for the database is a field error on the page and the CSV alike.
    assert client.get("/rankings/", {"parent": "9" * 30}).status_code == 400
    assert client.get("/rankings/rankings.csv", {"parent": "9" * 30}).status_code == 400


@pytest.mark.django_db
def test_the_csv_has_the_same_rows_and_the_dictionary_names_every_column(example, client, tree):
    services.scores_recompute_full()
    response = client.get("/rankings/rankings.csv", {"period": "2026-11", "parent": tree["community"].pk})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="rankings-2026-11.csv"'
    rows = csv_rows(response)
    assert rows[0] == [field.name for field in CSV_FIELDS]
    assert rows[1:] == [
        ["1", "", "A", "品牌A", "华阳路第一网格党支部", "community", "10", "4.2", "4.15", "0.4902", "50.0", "0.1"]
        + ["0.0", "6", "2", "1", "0", "1", "ranked", "20.0", "4.125"],
        ["2", "", "E", "品牌E", "华阳路第一网格党支部", "community", "5", "4.0", "4.1", "0.5655", "0.0", "0.0"]
        + ["0.0", "0", "5", "0", "0", "0", "ranked", "20.0", "4.125"],
        ["", "", "F", "品牌F", "华阳路第一网格党支部", "community", "2", "2.5", "", "0.0", "-50.0", "0.5"]
        + ["0.0", "0", "0", "1", "1", "0", "not enough ratings", "20.0", "4.125"],
    ]
    fields = csv_rows(client.get("/rankings/fields.csv", HTTP_ACCEPT_LANGUAGE="en"))
    assert fields[0] == ["field", "meaning"]
    assert [row[0] for row in fields[1:]] == rows[0]
    assert all(row[1] for row in fields[1:])
    assert client.get("/rankings/rankings.csv", {"domain": "moon"}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 20])
def test_the_page_queries_do_not_grow_with_rows(tree, client, rows):
    for index in range(rows):
        rate(make_brand(tree["grid"], f"Q{index:02d}"), [5, 4, 4, 3, 5])
    services.scores_recompute_full()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/rankings/", {"period": "2026-11"})
    assert len(response.context["page"].object_list) == rows
    # The periods' sums (m and C), rows count, rows, periods, parent organizations.
    assert len(queries) == 5


@pytest.mark.django_db
def test_the_brand_score_partial_shows_n_bar_score_bound_and_a_note(example, settings):
    services.scores_recompute_full()
    html = render_to_string("scores/_brand_score.html", {"brand": example["A"]})
    assert '<dd class="col-6">10</dd>' in html  # n
    assert '<dd class="col-6">4.20</dd>' in html  # mean
    assert '<dd class="col-6">2</dd>' in html  # rank all time: B 4.3... then A
    assert '<dd class="col-6">49%</dd>' in html  # Wilson bound
    assert 'class="grade-bar-5"' in html
    assert "较少" in html  # few ratings (10 < m = 20): the score leans towards the average
    few = render_to_string("scores/_brand_score.html", {"brand": example["F"]})
    assert "至少需要 5 条" in few
    unrated = make_brand(example["A"].organization, "Z")
    assert "暂无评价" in render_to_string("scores/_brand_score.html", {"brand": unrated})
