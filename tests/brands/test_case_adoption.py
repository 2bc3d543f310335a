"""Spreading experience (推广): a brand adopts another brand's published case; the case page lists its adopters
with their mean grade before and after adopting it."""

import datetime
import math

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from brands import services
from brands.models import Case, CaseAdoption
from config.errors import ApplicationError, http_status
from evaluations.models import Evaluation
from scores.selectors import adoption_effect
from scores.services import scores_recompute_full
from tests.factories import make_brand, make_evaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def published_case(tree, other_secretary):
    """A published case of 海润先锋, a named brand of the enterprise (managed by ``other_secretary``)."""
    brand = make_brand(tree["enterprise"], "HRX567", status="named", name="海润先锋")
    return Case.objects.create(
        brand=brand,
        organization_id=brand.organization_id,
        title="党员先锋岗把质量责任落到人",
        summary="摘要",
        body="正文",
        author=other_secretary,
        status=Case.Status.PUBLISHED,
        published_at=timezone.now(),
    )


@pytest.fixture
def adopter(tree):
    """红色家园, a public (cultivating) brand of the community, managed by ``secretary``."""
    return make_brand(tree["community"], "RED234", name="红色家园")


def page_url(case) -> str:
    return f"/cases/{case.pk}/"


def adopt_url(case) -> str:
    return f"/cases/{case.pk}/adopt/"


def test_the_secretary_adopts_a_case_for_a_brand_of_theirs(client, secretary, published_case, adopter, tree):
    make_brand(tree["community"], "DRAFT2", status="draft")  # not public: not offered
    client.force_login(secretary)
    form = client.get(page_url(published_case)).context["adopt_form"]
    assert form.fields["brand"].choices == [("RED234", "红色家园")]
    response = client.post(adopt_url(published_case), {"brand": "RED234", "note": "网格党员认领质量承诺"})
    assert (response.status_code, response["Location"]) == (302, page_url(published_case))
    adoption = CaseAdoption.objects.get()
    assert (
        adoption.case,
        adoption.brand,
        adoption.organization,
        adoption.adopted_by,
        adoption.adopted_on,
        adoption.note,
    ) == (published_case, adopter, tree["community"], secretary, timezone.localdate(), "网格党员认领质量承诺")
    response = client.get(page_url(published_case), HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["adoptions"] == [adoption]
    assert response.context["adopt_form"] is None  # its only brand has adopted it
    html = response.content.decode()
    assert "红色家园" in html and "华阳路社区党委" in html
    assert f"adopted on {timezone.localdate():%Y-%m-%d}" in html
    assert "网格党员认领质量承诺" in html  # the note: shown to the adopter's own people


def test_the_note_is_not_shown_to_the_public(client, secretary, published_case, adopter):
    services.case_adopt(user=secretary, case=published_case, brand=adopter, note="内部安排")
    html = client.get(page_url(published_case)).content.decode()
    assert "红色家园" in html
    assert "内部安排" not in html


@pytest.mark.parametrize("who", ["other_secretary", "outsider", "city_reviewer"])
def test_users_who_do_not_manage_the_brand_get_404(client, request, who, published_case, adopter):
    client.force_login(request.getfixturevalue(who))
    assert client.post(adopt_url(published_case), {"brand": adopter.code}).status_code == 404
    assert CaseAdoption.objects.count() == 0


def test_a_brand_of_another_organization_is_404_to_a_secretary(client, secretary, published_case, adopter, tree):
    elsewhere = make_brand(tree["district"], "DIST23", name="区委品牌")
    client.force_login(secretary)
    assert client.post(adopt_url(published_case), {"brand": elsewhere.code}).status_code == 404
    assert client.post(adopt_url(published_case), {"brand": "NOPE99"}).status_code == 404
    assert CaseAdoption.objects.count() == 0


def test_anonymous_is_sent_to_log_in(client, published_case, adopter):
    response = client.post(adopt_url(published_case), {"brand": adopter.code})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get(page_url(published_case)).context["adopt_form"] is None


@pytest.mark.parametrize("status", [Case.Status.DRAFT, Case.Status.SUBMITTED])
def test_an_unpublished_case_cannot_be_adopted(client, secretary, published_case, adopter, status):
    Case.objects.filter(pk=published_case.pk).update(status=status)
    client.force_login(secretary)
    assert client.post(adopt_url(published_case), {"brand": adopter.code}).status_code == 404
    published_case.refresh_from_db()
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        services.case_adopt(user=secretary, case=published_case, brand=adopter)
    assert refused.value.message == "Only a published case can be adopted."
    assert CaseAdoption.objects.count() == 0


def test_a_brand_adopts_a_case_once(client, secretary, published_case, adopter):
    client.force_login(secretary)
    assert client.post(adopt_url(published_case), {"brand": adopter.code}).status_code == 302
    response = client.post(adopt_url(published_case), {"brand": adopter.code}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409  # a conflict, on the page as in the API
    assert "“红色家园” has already adopted this case." in response.content.decode()
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        services.case_adopt(user=secretary, case=published_case, brand=adopter)
    assert (http_status(refused.value), refused.value.code) == (409, "already_adopted")
    assert CaseAdoption.objects.count() == 1


def test_the_service_refuses_its_own_case_a_private_brand_and_other_organizations(
    secretary, other_secretary, published_case, adopter, tree
):
    own = published_case.brand
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        services.case_adopt(user=other_secretary, case=published_case, brand=own)
    assert refused.value.message == "A brand cannot adopt its own case."
    draft = make_brand(tree["community"], "DRAFT2", status="draft")
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        services.case_adopt(user=secretary, case=published_case, brand=draft)
    assert refused.value.message == "Only a public brand (cultivating, named or demonstration) can adopt a case."
    with pytest.raises(Http404):  # not a manager of the adopting brand: as if it did not exist
        services.case_adopt(user=other_secretary, case=published_case, brand=adopter)
    assert CaseAdoption.objects.count() == 0


def rate(brand, day: datetime.date, *grades: int, **fields) -> None:
    for grade in grades:
        make_evaluation(brand, grade, rated_on=day, **fields)


def test_the_page_shows_each_adopters_mean_grade_before_and_after(client, published_case, adopter, secretary):
    """Adopted on 15 June 2026: before is March to May, after is July on; June itself is left out."""
    d = datetime.date
    rate(adopter, d(2026, 2, 10), 1)  # before the three months before
    rate(adopter, d(2026, 3, 5), 3)
    rate(adopter, d(2026, 4, 20), 3)
    rate(adopter, d(2026, 5, 31), 4)
    rate(adopter, d(2026, 6, 14), 1)  # the month of adoption
    rate(adopter, d(2026, 6, 20), 5)
    rate(adopter, d(2026, 7, 1), 5)
    rate(adopter, d(2026, 8, 1), 1, state=Evaluation.State.FLAGGED)  # held: not counted
    rate(adopter, d(2026, 9, 30), 4)
    rate(published_case.brand, d(2026, 4, 2), 1, 1)  # another brand's ratings
    scores_recompute_full()
    CaseAdoption.objects.create(
        case=published_case,
        brand=adopter,
        organization_id=adopter.organization_id,
        adopted_by=secretary,
        adopted_on=d(2026, 6, 15),
    )
    # before: 3, 3, 4 (mean 10/3, s² = 1/3); after: 5, 4 (mean 4.5, s² = 1/2)
    half = 1.96 * math.sqrt((1 / 3) / 3 + (1 / 2) / 2)
    change = 4.5 - 10 / 3
    assert adoption_effect(brand=adopter, since=d(2026, 6, 15)) == {
        "before": {"first": "2026-03", "last": "2026-05", "n": 3, "mean": pytest.approx(10 / 3)},
        "after": {"first": "2026-07", "last": "2026-09", "n": 2, "mean": pytest.approx(4.5)},
        "change": pytest.approx(change),
        "low": pytest.approx(change - half),
        "high": pytest.approx(change + half),
        "few": True,
    }
    assert (round(change - half, 2), round(change + half, 2)) == (-0.01, 2.34)
    html = client.get(page_url(published_case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Before (2026-03 to 2026-05)" in html
    assert "3.33 (n = 3)" in html
    assert "After (2026-07 to 2026-09)" in html
    assert "4.50 (n = 2)" in html
    assert "+1.17" in html
    assert "95% interval -0.01 to 2.34" in html
    assert "Few ratings: n before = 3, after = 2; the difference may be chance." in html


def test_enough_ratings_and_a_clear_change_carry_no_warning(client, published_case, adopter, secretary):
    rate(adopter, datetime.date(2026, 5, 2), *[3] * 30)
    rate(adopter, datetime.date(2026, 7, 2), *[4] * 15 + [5] * 15)
    scores_recompute_full()
    adoption = services.case_adopt(user=secretary, case=published_case, brand=adopter)
    CaseAdoption.objects.filter(pk=adoption.pk).update(adopted_on=datetime.date(2026, 6, 1))
    effect = adoption_effect(brand=adopter, since=datetime.date(2026, 6, 1))
    assert (effect["before"]["n"], effect["after"]["n"], effect["few"]) == (30, 30, False)
    assert effect["change"] == pytest.approx(1.5)
    assert effect["low"] > 0
    html = client.get(page_url(published_case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "+1.50" in html
    assert "may be chance" not in html


def test_an_adopter_without_ratings_since_is_not_compared(client, published_case, adopter, secretary):
    rate(adopter, datetime.date(2026, 5, 2), 4, 5)
    scores_recompute_full()
    CaseAdoption.objects.create(
        case=published_case,
        brand=adopter,
        organization_id=adopter.organization_id,
        adopted_by=secretary,
        adopted_on=datetime.date(2026, 6, 1),
    )
    html = client.get(page_url(published_case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "After (from 2026-07)" in html
    assert "Not enough ratings to compare yet: n before = 2, after = 0." in html


def count_queries(client, url) -> int:
    cache.clear()  # cold: every adopter's figures are read (in one query)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_case_page_costs_the_same_queries_with_1_and_20_adopters(client, tree, published_case, secretary):
    def adopt(n: int) -> None:
        brand = make_brand(tree["community"], f"AD{n:04d}")
        rate(brand, datetime.date(2026, 5, 2), 4)
        CaseAdoption.objects.create(
            case=published_case,
            brand=brand,
            organization_id=brand.organization_id,
            adopted_by=secretary,
            adopted_on=datetime.date(2026, 6, 1),
        )

    adopt(0)
    scores_recompute_full()
    one = count_queries(client, page_url(published_case))
    for n in range(1, 20):
        adopt(n)
    scores_recompute_full()
    assert count_queries(client, page_url(published_case)) == one
    client.force_login(secretary)  # the secretary's page also lists their brands that may adopt it
    mine = count_queries(client, page_url(published_case))
    adopt(20)
    assert count_queries(client, page_url(published_case)) == mine
