"""Service encounters (一次一评): one-time rating codes, issued by the brand's secretary, verify a rating."""

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone

from config.errors import ApplicationError
from evaluations import integrity, services
from evaluations.models import Evaluation, RatingCode, RatingCodeBatch
from tests.evaluations.test_views import RATE, errors, rate

pytestmark = pytest.mark.django_db

CODES_PAGE = "/workspace/brands/hyl01/rating-codes/"
CODES_API = "/api/v1/brands/hyl01/rating-codes/"
SUBMIT_API = "/api/v1/brands/hyl01/evaluations/"
# Every network limit at its tightest: without a code, the second rating from an address is held or refused.
STRICT = dict(
    EVALUATION_THROTTLE_IP_BRAND=1,
    EVALUATION_THROTTLE_IP=1,
    EVALUATION_POW_SOFT_LIMIT=0,
    EVALUATION_BURST_LIMIT=0,
    SURGE_MIN_COUNT=0,
    SURGE_MIN_DAILY=0.01,
)


def issue(brand, user, count=1, valid_days=30) -> list[str]:
    return services.rating_codes_issue(brand=brand, actor=user, count=count, valid_days=valid_days)[1]


def test_the_secretary_issues_a_printable_sheet_and_only_hashes_are_kept(client, brand, secretary):
    client.force_login(secretary)
    assert client.get(CODES_PAGE).status_code == 200
    response = client.post(CODES_PAGE, {"count": "8", "valid_days": "14"})
    assert response.status_code == 200
    html = response.content.decode()
    shown = re.findall(r'data-code="([A-Z0-9]{5}-[A-Z0-9]{5})"', html)
    assert len(shown) == 8 == len(set(shown))
    assert html.count("<svg") >= 8  # a QR code per slip
    assert response.headers["Cache-Control"].startswith("max-age=0")
    batch = RatingCodeBatch.objects.get()
    assert (batch.brand_id, batch.issued_by_id, batch.count, batch.channel) == (brand.pk, secretary.pk, 8, "web")
    assert batch.expires_at.date() == (timezone.now() + timedelta(days=14)).date()
    stored = set(RatingCode.objects.values_list("code_hash", flat=True))
    assert stored == {services.rating_code_hash(code) for code in shown}
    assert not any(code.replace("-", "") in stored for code in shown)
    # the QR link carries the code, and the form takes it from there
    first = shown[0].replace("-", "")
    assert f"/b/hyl01/rate/?c={first}" in html
    assert f'value="{first}"' in client.get(f"{RATE}?c={first}").content.decode()
    # the audit lists the batch, with how many were used
    assert "<td>8</td><td>0</td>" in client.get(CODES_PAGE).content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"count": "0", "valid_days": "3"}, "count"),
        ({"count": "201", "valid_days": "3"}, "count"),
        ({"count": "1", "valid_days": "181"}, "valid_days"),
        ({"count": "x", "valid_days": "3"}, "count"),
    ],
)
def test_issuing_refuses_bad_numbers_with_a_message(client, brand, secretary, data, field):
    client.force_login(secretary)
    response = client.post(CODES_PAGE, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert f'id="error_1_id_{field}"' in response.content.decode()
    assert RatingCodeBatch.objects.count() == 0


def test_a_counter_system_asks_the_api_for_one_code_per_encounter(api_client, brand, secretary):
    api_client.force_authenticate(secretary)
    response = api_client.post(CODES_API, {}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert [len(entry["code"]) for entry in body["codes"]] == [11]
    code = body["codes"][0]["code"]
    assert body["codes"][0]["rate_url"] == f"http://testserver/b/hyl01/rate/?c={code.replace('-', '')}"
    assert RatingCodeBatch.objects.get().channel == "api"
    bad = api_client.post(CODES_API, {"count": 500, "valid_days": 0}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert (bad.status_code, sorted(bad.json())) == (400, ["count", "valid_days"])


def test_the_apis_code_links_are_on_site_url_when_it_is_set(api_client, brand, secretary, settings):
    settings.SITE_URL = "https://portal.example.cn/"
    api_client.force_authenticate(secretary)
    entry = api_client.post(CODES_API, {"count": 1}, format="json").json()["codes"][0]
    # The same address the printed slips' QR codes carry, whatever host the counter system called.
    assert entry["rate_url"] == f"https://portal.example.cn/b/hyl01/rate/?c={entry['code'].replace('-', '')}"


def test_another_organizations_user_cannot_issue_codes(
    client, api_client, brand, other_secretary, outsider, city_reviewer
):
    for user in (other_secretary, outsider, city_reviewer):
        client.force_login(user)
        assert client.get(CODES_PAGE).status_code == 404
        assert client.post(CODES_PAGE, {"count": "1", "valid_days": "1"}).status_code == 404
        api_client.force_authenticate(user)
        assert api_client.post(CODES_API, {"count": 1}, format="json").status_code == 404
    assert RatingCodeBatch.objects.count() == 0
    api_client.force_authenticate(None)
    assert api_client.post(CODES_API, {"count": 1}, format="json").status_code in (401, 403)


@override_settings(**STRICT)
def test_a_verified_rating_counts_past_every_network_limit(client, api_client, brand, secretary):
    codes = issue(brand, secretary, count=6)
    # Through the form, the same browser, one address: every rating counts.
    client.get(RATE)
    for code in codes[:3]:
        assert rate(client, overall="5", code=code).status_code == 302
    # Through the API, the same address, no proof of work, no device id.
    for code in codes[3:]:
        response = api_client.post(SUBMIT_API, {"overall": 4, "code": code}, format="json")
        assert response.status_code == 201
        assert (response.json()["status"], response.json()["verified"]) == ("counted", True)
    assert list(Evaluation.objects.values_list("state", "verified").distinct()) == [("counted", True)]
    assert RatingCode.objects.filter(used_at__isnull=False, evaluation__isnull=False).count() == 6
    # Without a code, the next one from that address is refused by the tightest throttle.
    assert api_client.post(SUBMIT_API, {"overall": 4}, format="json").status_code == 429


def test_used_expired_foreign_and_unknown_codes_are_refused_with_a_message(
    client, api_client, brand, other_brand, secretary, other_secretary
):
    used, expired = issue(brand, secretary, count=2)
    foreign = issue(other_brand, other_secretary)[0]
    RatingCode.objects.filter(code_hash=services.rating_code_hash(expired)).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert api_client.post(SUBMIT_API, {"overall": 5, "code": used}, format="json").status_code == 201
    expected = {
        used: "This rating code was already used. Each code is good for one rating.",
        expired: "This rating code has expired. Ask the service point for a new one, or rate without a code.",
        foreign: "This rating code belongs to another service. Rate that service with it, or rate without a code.",
        "ABCDE-FGHJK": "This rating code is not valid. Check it against your slip, or rate without a code.",
    }
    for code, message in expected.items():
        response = api_client.post(SUBMIT_API, {"overall": 5, "code": code}, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert (response.status_code, response.json()) == (400, {"code": [message]})
        form = client.post(RATE, {"overall": "5", "code": code, "started": ""}, HTTP_ACCEPT_LANGUAGE="en")
        assert form.status_code == 400
        assert message in errors(form)
    assert Evaluation.objects.count() == 1  # nothing stored for a refused code, and the used one kept


def test_the_service_refuses_a_code_already_used(brand, secretary, signals):
    code = issue(brand, secretary)[0]
    services.evaluation_submit(brand=brand, overall=5, signals=signals(), channel="api", rating_code=code)
    with pytest.raises(ApplicationError) as error:
        services.evaluation_submit(brand=brand, overall=5, signals=signals(), channel="api", rating_code=code)
    assert (error.value.field, error.value.message) == (
        "code",
        "This rating code was already used. Each code is good for one rating.",
    )


@pytest.mark.django_db(transaction=True)
@override_settings(**STRICT)
def test_one_code_stays_single_use_under_20_concurrent_submissions(brand, secretary):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serializes every writer, so there is no race to test")
    code = issue(brand, secretary)[0]
    threads_count = 20
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []

    def worker(i):
        try:
            barrier.wait(timeout=30)
            signals = integrity.ClientSignals(ip=f"10.9.{i}.1", device_key=f"phone-{i}")
            services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api", rating_code=code)
            outcomes.append("counted")
        except ApplicationError as error:
            outcomes.append(error.field)
        except Exception as exc:  # any other error fails the test
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["code"] * 19 + ["counted"]
    assert list(Evaluation.objects.values_list("state", "verified")) == [("counted", True)]
    assert RatingCode.objects.get().evaluation_id == Evaluation.objects.get().pk


def test_the_rankings_and_the_brand_page_show_the_share_of_verified_ratings(client, api_client, tree, secretary):
    from scores import services as score_services
    from tests.factories import make_brand

    brand = make_brand(tree["community"], code="HYJY26", name="幸福邻里")
    for code in issue(brand, secretary, count=3):
        response = api_client.post("/api/v1/brands/HYJY26/evaluations/", {"overall": 5, "code": code}, format="json")
        assert response.status_code == 201
    for i in range(3):
        signals = integrity.ClientSignals(ip=f"10.{i}.0.1", device_key=f"phone-{i}")
        services.evaluation_submit(brand=brand, overall=4, signals=signals, channel="api")
    score_services.scores_fold_incremental()
    row = api_client.get("/api/v1/rankings/", {"period": "all"}).json()["results"][0]
    assert (row["code"], row["n"], row["verified_share"]) == ("HYJY26", 6, 0.5)
    assert '<dd class="col-6" id="verified-share">50%</dd>' in client.get("/b/HYJY26/").content.decode()
    ranking_page = client.get("/rankings/", {"period": "all"}).content.decode()
    assert '<td class="text-end d-none d-md-table-cell verified-share">50%</td>' in ranking_page
