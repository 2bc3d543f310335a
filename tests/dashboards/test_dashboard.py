"""The organization department's dashboard: scope, drill-down totals, exports, query count."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from dashboards.models import NodeFigures
from evaluations import integrity, services
from organizations.models import Organization
from tests.dashboards.conftest import add_ratings, rebuild
from tests.factories import make_brand

pytestmark = pytest.mark.django_db


def this_month() -> str:
    today = timezone.localdate()
    return f"{today.year}-{today.month:02d}"


def month_code() -> int:
    today = timezone.localdate()
    return today.year * 100 + today.month


@pytest.fixture
def city(tree, settings):
    """Four brands: two of the community, one of its grid, one of the enterprise (outside the district)."""
    settings.SURGE_MIN_COUNT = 100  # the hand-made day of ratings is no surge
    today = timezone.localdate()
    brands = {
        "C1": make_brand(tree["community"], "C1", name="社区一"),
        "C2": make_brand(tree["community"], "C2", name="社区二"),
        "G1": make_brand(tree["grid"], "G1", name="网格一"),
        "E1": make_brand(tree["enterprise"], "E1", name="企业一"),
    }
    add_ratings(brands["C1"], [5, 5, 4, 4, 3, 1], today)
    add_ratings(brands["C2"], [4, 4, 4, 2, 2], today)
    add_ratings(brands["G1"], [5, 5, 5, 5, 5, 5, 4], today, group="member")
    add_ratings(brands["E1"], [3, 3, 2, 1, 5], today)
    signals = integrity.ClientSignals(ip="10.1.1.1", device_key="bad")
    services.evaluation_submit(brand=brands["C1"], overall=1, contact="13800000000", signals=signals, channel="api")
    rebuild()
    return brands


def figures_n(organization: Organization) -> int:
    counts = NodeFigures.objects.get(organization=organization, period=month_code()).figures
    return sum(counts.get(f"{group}_n", 0) for group in ("masses", "member", "sub_org"))


def test_every_nodes_totals_equal_its_own_plus_its_childrens(city, tree):
    assert figures_n(tree["grid"]) == 7
    assert (
        figures_n(tree["community"]) == 6 + 1 + 5 + 7
    )  # its own brands (one bad review through the API) and the grid's
    assert figures_n(tree["district"]) == figures_n(tree["community"])
    assert figures_n(tree["enterprise"]) == 5
    assert figures_n(tree["city"]) == figures_n(tree["district"]) + figures_n(tree["enterprise"])
    for node in Organization.objects.all():
        counts = NodeFigures.objects.get(organization=node, period=month_code()).figures
        children = [NodeFigures.objects.get(organization=c, period=month_code()).figures for c in node.get_children()]
        for key in ("masses_grade_5", "member_grade_5", "rect_opened", "status:cultivating"):
            own = sum(1 for b in node.brands.all() if key == "status:cultivating")
            assert counts.get(key, 0) >= sum(child.get(key, 0) for child in children)
            if key == "status:cultivating":
                assert counts.get(key, 0) == own + sum(child.get(key, 0) for child in children)


def test_district_reviewer_sees_only_its_subtree(client, city, tree, district_reviewer):
    client.force_login(district_reviewer)
    response = client.get("/dashboard/", {"period": this_month()})
    assert response.status_code == 200
    html = response.content.decode()
    # The top of its reach is the district; the city above is not in the breadcrumb.
    assert re.findall(r'<li class="breadcrumb-item active">([^<]*)</li>', html) == ["中共青岛市市北区委员会"]
    assert "中共青岛市委员会" not in re.search(r'<ol class="breadcrumb.*?</ol>', html, re.S).group(0)
    assert '<div class="tile-value" id="h-n">19</div>' in html
    # One drill-down row: the community; its totals are the district's.
    assert re.findall(r'<tr data-org="(\d+)">', html) == [str(tree["community"].pk)]
    assert "企业一" not in html and "海润自来水集团党委" not in html
    # Drilling into the enterprise is outside its reach.
    assert client.get("/dashboard/", {"node": tree["enterprise"].pk}).status_code == 404
    assert client.get("/dashboard/export.xlsx", {"node": tree["enterprise"].pk}).status_code == 404
    drilled = client.get("/dashboard/", {"node": tree["community"].pk, "period": this_month()}).content.decode()
    assert re.findall(r'<li class="breadcrumb-item[^"]*">(?:<a [^>]*>)?([^<]*)', drilled) == [
        "中共青岛市市北区委员会",
        "华阳路社区党委",
    ]
    assert re.findall(r'<tr data-org="(\d+)">', drilled) == [str(tree["grid"].pk)]


def test_city_reviewer_sees_the_whole_city(client, city, tree, city_reviewer):
    client.force_login(city_reviewer)
    html = client.get("/dashboard/", {"period": this_month()}).content.decode()
    assert '<div class="tile-value" id="h-n">24</div>' in html
    assert sorted(re.findall(r'<tr data-org="(\d+)">', html)) == sorted(
        [str(tree["district"].pk), str(tree["enterprise"].pk)]
    )


def test_secretaries_and_outsiders_get_404(client, city, secretary, outsider):
    for user in (secretary, outsider):
        client.force_login(user)
        for url in ("/dashboard/", "/dashboard/export.xlsx", "/dashboard/export/ranking.csv"):
            assert client.get(url).status_code == 404
    client.logout()
    assert client.get("/dashboard/").status_code == 302  # to the login page


def test_a_malformed_period_is_refused_with_a_message(client, city, district_reviewer):
    client.force_login(district_reviewer)
    response = client.get("/dashboard/", {"period": "all"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "Choose a month, a quarter or a year." in response.content.decode()
    assert client.get("/dashboard/export.xlsx", {"period": "2026-13"}).status_code == 400


def test_the_excel_file_holds_exactly_the_rankings_api_rows(client, api_client, city, tree, city_reviewer):
    client.force_login(city_reviewer)
    response = client.get("/dashboard/export.xlsx", {"period": this_month(), "node": tree["district"].pk})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["排名", "组织", "整改", "预警"]
    ranking = book["排名"]
    assert ranking.freeze_panes == "A2"
    header = [cell.value for cell in ranking[1]]
    assert header[:4] == ["排名", "名次变化", "品牌编号", "品牌"]
    rows = [[cell.value for cell in row] for row in ranking.iter_rows(min_row=2)]
    api = api_client.get("/api/v1/rankings/", {"period": this_month(), "subtree": tree["district"].pk}).json()
    assert [(row[2], row[6]) for row in rows] == [(r["code"], r["n"]) for r in api["results"]]
    assert [row[0] or None for row in rows] == [r["rank"] for r in api["results"]]
    assert len(rows) == api["count"] == 3
    # The CSV holds the same rows.
    text = client.get("/dashboard/export/ranking.csv", {"period": this_month(), "node": tree["district"].pk})
    csv_rows = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    assert csv_rows[0] == header
    assert [row[2] for row in csv_rows[1:]] == [r["code"] for r in api["results"]]
    organizations = [[cell.value for cell in row] for row in book["组织"].iter_rows(min_row=2)]
    assert [(row[0], row[3]) for row in organizations] == [("中共青岛市市北区委员会", 19), ("华阳路社区党委", 19)]


@pytest.mark.parametrize("extra", [0, 49])
def test_the_dashboards_query_count_does_not_grow_with_the_brands(client, tree, district_reviewer, extra):
    today = timezone.localdate()
    for i in range(1 + extra):
        brand = make_brand(tree["grid"] if i % 2 else tree["community"], f"Q{i}")
        add_ratings(brand, [5, 4, 3, 5, 4], today)
    rebuild()
    client.force_login(district_reviewer)
    client.get("/dashboard/", {"period": this_month()})  # warm the caches of the ranking and the priors
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/dashboard/", {"period": this_month()}).status_code == 200
    assert len(queries) == EXPECTED_QUERIES


# Session and user, memberships, children, figures, computed time, series, flagged and rectification detail of
# the twenty shown, warnings, cases, the review queue, cases awaiting publication and recent decisions, the
# rectification panel: fixed, whatever the number of brands (the ranking and the priors are cached once read).
EXPECTED_QUERIES = 17
