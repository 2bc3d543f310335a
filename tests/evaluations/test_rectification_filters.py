"""The rectification lists' filters: status and organization (within the user's scope), on the secretary's
workspace list and the reviewer's queue; what each row shows; invalid values; query counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluations import integrity, services
from evaluations.models import Rectification
from organizations.models import Membership
from tests.factories import UserFactory, grant, make_brand

pytestmark = pytest.mark.django_db

WORKSPACE = "/workspace/rectifications/"
QUEUE = "/dashboard/rectifications/"

_address = iter(range(1, 60_000))


def bad_review(brand, *, overall: int = 1, comment: str = "") -> Rectification:
    n = next(_address)
    signals = integrity.ClientSignals(ip=f"10.{n // 250}.{n % 250}.9", device_key=f"filters-{n}", user_agent="pytest")
    result = services.evaluation_submit(brand=brand, overall=overall, comment=comment, signals=signals, channel="api")
    assert result.evaluation.state == "counted"
    return Rectification.objects.get(evaluation=result.evaluation)


@pytest.fixture(autouse=True)
def _no_surge_holds(settings):
    settings.SURGE_MIN_COUNT = 10_000  # many ratings of one brand in one test day must all count


@pytest.fixture
def rows(tree, brand, other_brand, secretary):
    """Rectifications of 华阳路社区 (open, responded), of its grid branch (open) and of the enterprise (open)."""
    grid_brand = make_brand(tree["grid"], code="grid01", name="网格连心")
    community_open = bad_review(brand, comment="楼道灯坏了三个月没人修，" * 10)
    community_responded = bad_review(brand, overall=2)
    services.rectification_respond(rectification=community_responded, response="已修好", actor=secretary)
    grid_open = bad_review(grid_brand, comment="网格员联系不上")
    enterprise_open = bad_review(other_brand, comment="停水不通知")
    return {
        "community_open": community_open,
        "community_responded": community_responded,
        "grid_open": grid_open,
        "enterprise_open": enterprise_open,
    }


def listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-rectification="(\d+)"', response.content.decode())]


def options(response) -> list[str]:
    select = re.search(r'<select name="organization".*?</select>', response.content.decode(), re.S).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_the_secretary_filters_by_status_and_organization(client, tree, secretary, rows):
    client.force_login(secretary)
    everything = client.get(WORKSPACE)
    assert everything.status_code == 200
    assert listed(everything) == [
        rows["community_open"].pk,
        rows["community_responded"].pk,
        rows["grid_open"].pk,
    ]
    # Only the organizations in the secretary's scope are offered, in tree order.
    assert options(everything) == ["全部组织", "华阳路社区党委", "华阳路第一网格党支部"]
    assert listed(client.get(WORKSPACE, {"status": "open"})) == [rows["community_open"].pk, rows["grid_open"].pk]
    assert listed(client.get(WORKSPACE, {"status": "responded"})) == [rows["community_responded"].pk]
    assert listed(client.get(WORKSPACE, {"status": "confirmed"})) == []
    # An organization takes its subtree: the community includes its grid branch.
    assert listed(client.get(WORKSPACE, {"organization": tree["grid"].pk})) == [rows["grid_open"].pk]
    assert listed(client.get(WORKSPACE, {"organization": tree["community"].pk})) == [
        rows["community_open"].pk,
        rows["community_responded"].pk,
        rows["grid_open"].pk,
    ]
    both = client.get(WORKSPACE, {"status": "open", "organization": tree["community"].pk, "page": "1"})
    assert listed(both) == [rows["community_open"].pk, rows["grid_open"].pk]
    assert '<option value="open" selected>' in both.content.decode()


def test_each_row_shows_the_complaint_and_the_due_date(client, secretary, rows):
    client.force_login(secretary)
    body = client.get(WORKSPACE, {"status": "open"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    pk = rows["community_open"].pk
    row = re.search(rf'<tr class="border-bottom" data-rectification="{pk}">.*?</tr>', body, re.S).group(0)
    assert '<span class="fw-semibold">Very dissatisfied (非常不满意)</span>' in row
    # The comment is cut to 60 characters (59 and an ellipsis).
    assert ("楼道灯坏了三个月没人修，" * 5)[:59] + "…" in row
    assert "楼道灯坏了三个月没人修，" * 6 not in row
    due = rows["community_open"].due_on.strftime("%Y-%m-%d")
    # Below md the row stacks, and the due date says what it is.
    assert '<td class="d-inline-block d-md-table-cell text-nowrap"><span class="d-md-none">Due </span>' + due in row


def test_the_reviewer_queue_filters_too(client, tree, secretary, district_reviewer, city_reviewer, rows):
    for name in ("community_open", "grid_open", "enterprise_open"):
        services.rectification_appeal(rectification=rows[name], reason="恶意差评", actor=secretary)
    client.force_login(district_reviewer)
    queue = client.get(QUEUE)
    assert queue.status_code == 200
    assert listed(queue) == [rows["community_open"].pk, rows["grid_open"].pk]
    assert options(queue) == [
        "全部组织",
        "中共青岛市市北区委员会",
        "华阳路社区党委",
        "华阳路第一网格党支部",
    ]
    assert listed(client.get(QUEUE, {"status": "appealed", "organization": tree["grid"].pk})) == [rows["grid_open"].pk]
    assert listed(client.get(QUEUE, {"status": "open"})) == []
    client.force_login(city_reviewer)
    assert listed(client.get(QUEUE, {"organization": tree["enterprise"].pk})) == [rows["enterprise_open"].pk]


@pytest.mark.parametrize("url", [WORKSPACE, QUEUE])
def test_an_organization_outside_the_scope_shows_nothing(client, tree, secretary, district_reviewer, rows, url):
    for name in ("community_open", "grid_open", "enterprise_open"):
        services.rectification_appeal(rectification=rows[name], reason="恶意差评", actor=secretary)
    client.force_login(secretary if url == WORKSPACE else district_reviewer)
    foreign = client.get(url, {"organization": tree["enterprise"].pk}, HTTP_ACCEPT_LANGUAGE="en")
    missing = client.get(url, {"organization": 10**9}, HTTP_ACCEPT_LANGUAGE="en")
    for response in (foreign, missing):
        body = response.content.decode()
        assert response.status_code == 400
        assert listed(response) == []
        assert "停水不通知" not in body and "海润" not in body
        assert re.findall(r'id="filter-errors">\s*<p class="mb-0">([^<]*)</p>', body) == [
            "Choose an organization from the list."
        ]

    # "Not yours" and "does not exist" give the same answer.
    def page(response):  # (the language switch links back to the same query)
        body = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", response.content.decode())
        return re.sub(r"organization=\d+", "organization=X", body)

    assert page(foreign) == page(missing)


@pytest.mark.parametrize("url", [WORKSPACE, QUEUE])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "bogus"}, "Choose a status from the list."),
        ({"status": "\x00"}, "Choose a status from the list."),
        ({"organization": "abc"}, "Choose an organization from the list."),
        ({"organization": "\x00"}, "Null characters are not allowed."),
        ({"organization": "-1"}, "Choose an organization from the list."),
        ({"organization": str(2**70)}, "Choose an organization from the list."),
    ],
)
def test_bad_values_are_a_400_with_a_message(client, secretary, district_reviewer, rows, url, query, message):
    client.force_login(secretary if url == WORKSPACE else district_reviewer)
    response = client.get(url, query, HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 400
    assert listed(response) == []
    assert re.findall(r'id="filter-errors">\s*<p class="mb-0">([^<]*)</p>', body) == [message]


def test_pages_keep_the_filter(client, brand, secretary):
    for _ in range(51):
        bad_review(brand)
    client.force_login(secretary)
    body = client.get(WORKSPACE, {"status": "open"}).content.decode()
    assert 'href="?status=open&amp;page=2"' in body
    assert len(listed(client.get(WORKSPACE, {"status": "open", "page": "2"}))) == 1


def count_queries(client, url, query) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, query).status_code == 200
    return len(queries)


@pytest.mark.parametrize("n", [1, 20])
def test_filtered_lists_use_a_constant_number_of_queries(client, tree, secretary, district_reviewer, n):
    brand = make_brand(tree["grid"], code="count01")
    for _ in range(n):
        rectification = bad_review(brand, comment="差")
        services.rectification_appeal(rectification=rectification, reason="恶意", actor=secretary)
    query = {"status": "appealed", "organization": tree["community"].pk}
    client.force_login(secretary)
    counts = [count_queries(client, WORKSPACE, query)]
    client.force_login(district_reviewer)
    counts.append(count_queries(client, QUEUE, query))
    # session, user, memberships, the filter's organization, its choices, page count, page (+ the posters)
    assert counts == [8, 7]


def test_a_reviewer_of_another_subtree_sees_none_of_these(client, tree, rows):
    reviewer = UserFactory(username="enterprise_reviewer")
    grant(reviewer, tree["enterprise"], Membership.Role.REVIEWER)
    services.rectification_appeal(rectification=rows["community_open"], reason="恶意", actor=None)
    client.force_login(reviewer)
    assert listed(client.get(QUEUE)) == []
    assert options(client.get(QUEUE)) == ["全部组织", "海润自来水集团党委"]
    assert client.get(QUEUE, {"organization": tree["community"].pk}).status_code == 400
