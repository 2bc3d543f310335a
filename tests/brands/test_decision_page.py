"""The reviewer's decision page: the brand's ratings and rectification record before any decision, and
naming or demonstration only with a confirmation and a comment."""

import datetime
import re

import pytest
from django.utils import timezone

from brands.models import Brand, BrandTransition
from evaluations import integrity
from evaluations import services as evaluation_services
from evaluations.models import Rectification
from organizations.models import Membership
from scores import periods, selectors
from scores.services import scores_recompute_full
from tests.factories import UserFactory, grant, make_brand

pytestmark = pytest.mark.django_db

S = Brand.Status
CONFIRM_MESSAGE = (
    "Tick the box to confirm this decision: naming a brand or making it a demonstration brand"
    " is shown to the public at once."
)

_device = iter(range(1, 60_000))


@pytest.fixture(autouse=True)
def _no_surge_holds(settings):
    settings.SURGE_MIN_COUNT = 10_000  # a dozen ratings of one brand in one test day must all count


def submit(brand: Brand, grades: list[int]) -> list:
    """Ratings through the rating service, each from its own address and device."""
    evaluations = []
    for grade in grades:
        n = next(_device)
        signals = integrity.ClientSignals(ip=f"10.{100 + n // 250}.{n % 250}.1", device_key=f"decide-{n}")
        result = evaluation_services.evaluation_submit(brand=brand, overall=grade, signals=signals, channel="api")
        assert result.evaluation.state == "counted"
        evaluations.append(result.evaluation)
    return evaluations


@pytest.fixture
def rated(tree, secretary):
    """红色家园 (cultivating): 6 ratings this month (4 bad), 3 last month; four rectifications handled
    differently. 海润先锋 has 3 ratings, so the priors are not the brand's own mean."""
    brand = make_brand(tree["community"], code="DEC234", name="红色家园")
    other = make_brand(tree["enterprise"], code="DEC567", name="海润先锋")
    today = timezone.localdate()
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    submit(brand, [5, 4, 2, 1, 1, 2])
    earlier = submit(brand, [5, 4, 4])
    submit(other, [5, 5, 4])
    type(earlier[0]).objects.filter(pk__in=[e.pk for e in earlier]).update(rated_on=last_month)
    scores_recompute_full()

    on_time, overdue, reopened, late = Rectification.objects.filter(brand=brand).order_by("id")
    evaluation_services.rectification_respond(rectification=on_time, response="已修好", actor=secretary)
    evaluation_services.rectification_verdict(rectification=on_time, verdict="satisfied")
    evaluation_services.rectification_respond(rectification=reopened, response="已处理", actor=secretary)
    evaluation_services.rectification_verdict(rectification=reopened, verdict="dissatisfied")
    Rectification.objects.filter(pk__in=[overdue.pk, late.pk]).update(due_on=today - datetime.timedelta(days=1))
    assert evaluation_services.rectifications_mark_overdue() == 2
    evaluation_services.rectification_respond(rectification=late, response="迟到的答复", actor=secretary)
    return {"brand": brand, "today": today, "last_month": last_month}


def text(body: str, pattern: str) -> str:
    return re.search(pattern, body, re.S).group(1).strip()


def test_the_page_shows_exact_ratings_and_rectification_figures(client, district_reviewer, rated):
    brand, today = rated["brand"], rated["today"]
    client.force_login(district_reviewer)
    response = client.get(f"/dashboard/brands/{brand.code}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()

    prior = selectors.period_priors(codes=[periods.ALL])[periods.ALL]
    assert prior.mean == (28 + 14) / 12
    all_time = (28 + prior.m * prior.mean) / (9 + prior.m)
    assert text(body, r'id="decision-score">(.*?)<') == f"{all_time:.2f}"
    assert text(body, r'id="decision-n">(.*?)<') == "9"
    assert text(body, r'id="decision-bad-rate">(.*?)<') == "44%"  # 4 of 9

    month = periods.period_code(today.strftime("%Y-%m"))
    month_prior = selectors.period_priors(codes=[month])[month]
    this_month = (15 + month_prior.m * month_prior.mean) / (6 + month_prior.m)
    trend = re.findall(
        r'<tr data-month="([^"]+)"><th scope="row">[^<]*</th><td class="text-end">(\d+)</td>'
        r'<td class="text-end">([^<]*)</td><td class="text-end">([^<]*)</td></tr>',
        body,
    )
    assert trend == [
        (rated["last_month"].strftime("%Y-%m"), "3", "—", "0%"),  # fewer than 5 ratings: no score
        (today.strftime("%Y-%m"), "6", f"{this_month:.2f}", "67%"),  # 4 bad of 6
    ]

    record = dict(re.findall(r'data-record="(\w+)">(\d+)<', body))
    assert record == {
        "total": "4",
        "on_time": "2",  # answered and confirmed; answered, then reopened by the rater
        "overdue": "1",  # still owes a response past its date
        "ever_overdue": "2",  # that one and the one answered late
        "reopened": "1",
        "open": "3",  # all but the confirmed one
    }
    # The figures come before the decision form.
    assert (
        body.index('id="decision-ratings"')
        < body.index('id="decision-rectifications"')
        < body.index('<form method="post" novalidate>')
    )


def test_a_brand_without_ratings_says_so(client, district_reviewer, tree):
    brand = make_brand(tree["grid"], code="DEC890", name="网格连心", status=S.SUBMITTED)
    client.force_login(district_reviewer)
    body = client.get(f"/dashboard/brands/{brand.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert text(body, r'<p id="decision-score">(.*?)<') == "No ratings yet."
    assert 'id="decision-trend"' not in body
    assert text(body, r'<p class="mb-0" data-record="total">(.*?)<') == "No bad review has needed a rectification."
    form = client.get(f"/dashboard/brands/{brand.code}/").context["form"]
    assert "confirm" not in form.fields  # approving or returning needs no confirmation


def test_a_brand_below_the_minimum_has_no_score(client, district_reviewer, tree):
    brand = make_brand(tree["grid"], code="DEC999", name="网格连心")
    submit(brand, [5, 1])
    scores_recompute_full()
    client.force_login(district_reviewer)
    body = client.get(f"/dashboard/brands/{brand.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert text(body, r'id="decision-score">(.*?)<') == "not enough ratings to score"
    assert text(body, r'id="decision-n">(.*?)<') == "2"
    assert text(body, r'id="decision-bad-rate">(.*?)<') == "50%"


@pytest.mark.parametrize(
    ("decision", "from_status", "to_status", "comment_message"),
    [
        ("name", S.CULTIVATING, S.NAMED, "Say why the brand deserves to be named."),
        ("demonstrate", S.NAMED, S.DEMONSTRATION, "Say why the brand should become a demonstration brand."),
    ],
)
def test_naming_and_demonstration_need_confirmation_and_comment(
    client, district_reviewer, tree, decision, from_status, to_status, comment_message
):
    brand = make_brand(tree["community"], code="DEC345", name="红色家园", status=from_status)
    url = f"/dashboard/brands/{brand.code}/"
    client.force_login(district_reviewer)

    def post(**data):
        return client.post(url, {"decision": decision, **data}, HTTP_ACCEPT_LANGUAGE="en")

    refused = [
        (post(), {"confirm": [CONFIRM_MESSAGE], "comment": [comment_message]}),
        (post(comment="群众认可度高"), {"confirm": [CONFIRM_MESSAGE]}),
        (post(confirm="on", comment="   "), {"comment": [comment_message]}),
    ]
    for response, errors in refused:
        assert response.status_code == 200
        assert response.context["form"].errors == errors
        assert CONFIRM_MESSAGE in response.content.decode() or "confirm" not in errors
    assert Brand.objects.get(pk=brand.pk).status == from_status
    assert BrandTransition.objects.count() == 0

    accepted = post(confirm="on", comment="群众认可度高")
    assert (accepted.status_code, accepted.headers["Location"]) == (302, url)
    assert Brand.objects.get(pk=brand.pk).status == to_status
    transition = BrandTransition.objects.get()
    assert (transition.decision, transition.comment, transition.actor) == (decision, "群众认可度高", district_reviewer)


def test_the_api_needs_a_comment_to_name(api_client, district_reviewer, tree):
    brand = make_brand(tree["community"], code="DEC678", name="红色家园")
    api_client.force_authenticate(district_reviewer)
    url = f"/api/v1/brands/{brand.code}/review/"
    response = api_client.post(url, {"decision": "name"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Say why the brand deserves to be named." in response.content.decode()
    assert api_client.post(url, {"decision": "name", "comment": "认可"}).status_code == 200
    assert Brand.objects.get(pk=brand.pk).status == S.NAMED


def test_approval_still_needs_no_comment(client, district_reviewer, tree):
    brand = make_brand(tree["grid"], code="DEC456", name="网格连心", status=S.SUBMITTED)
    client.force_login(district_reviewer)
    assert client.post(f"/dashboard/brands/{brand.code}/", {"decision": "approve"}).status_code == 302
    assert Brand.objects.get(pk=brand.pk).status == S.CULTIVATING


def test_other_reviewers_and_the_brands_own_secretary_get_404(client, tree, secretary, outsider, rated):
    brand = rated["brand"]
    enterprise_reviewer = UserFactory(username="enterprise_reviewer")
    grant(enterprise_reviewer, tree["enterprise"], Membership.Role.REVIEWER)
    url = f"/dashboard/brands/{brand.code}/"
    for user in (enterprise_reviewer, secretary, outsider):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, {"decision": "name", "confirm": "on", "comment": "x"}).status_code == 404
    assert Brand.objects.get(pk=brand.pk).status == S.CULTIVATING
    assert BrandTransition.objects.count() == 0
