"""The evaluation API: anonymous submit and track, scoped rectifications."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from evaluations.models import Evaluation, Rectification
from tests.factories import make_brand

pytestmark = pytest.mark.django_db

URL = "/api/v1/brands/hyl01/evaluations/"


def post(api_client, body, **headers):
    return api_client.post(URL, body, format="json", **headers)


def test_submit_returns_201_with_a_receipt(api_client, brand):
    response = post(api_client, {"overall": 5, "management": 4, "service": 5, "quality": 3, "rater_group": "member"})
    assert response.status_code == 201
    evaluation = Evaluation.objects.get()
    assert response.json() == {
        "receipt": evaluation.receipt,
        "already_rated": False,
        "status": "counted",
        "verified": False,
        "reasons": [],
        "message": "您的评价已计入。",
    }
    assert (evaluation.channel, evaluation.management, evaluation.service, evaluation.quality) == ("api", 4, 5, 3)
    assert (evaluation.rater_group, evaluation.state) == ("member", "counted")


def test_submit_needs_no_csrf_even_with_an_enforcing_client(brand):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    assert client.post(URL, {"overall": 4}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"overall": ["该字段是必填项。"]}),
        ({"overall": 7}, {"overall": ["请确保该值小于或者等于 5。"]}),
        ({"overall": 0}, {"overall": ["请确保该值大于或者等于 1。"]}),
        ({"overall": "x"}, {"overall": ["请填写合法的整数值。"]}),
        ({"overall": None}, {"overall": ["该字段不能为 null。"]}),
        ({"overall": True}, {"overall": ["请填写合法的整数值。"]}),
        ({"overall": 5.5}, {"overall": ["请填写合法的整数值。"]}),
        ({"overall": 3, "management": 0}, {"management": ["请确保该值大于或者等于 1。"]}),
        ({"overall": 3, "service": 6}, {"service": ["请确保该值小于或者等于 5。"]}),
        ({"overall": 3, "quality": "good"}, {"quality": ["请填写合法的整数值。"]}),
        ({"overall": 5, "rater_group": "boss"}, {"rater_group": ["“boss” 不是合法选项。"]}),
        ({"overall": 5, "comment": "长" * 501}, {"comment": ["请确保这个字段不能超过 500 个字符。"]}),
        ({"overall": 1, "contact": "1" * 101}, {"contact": ["请确保这个字段不能超过 100 个字符。"]}),
        (
            {"overall": 5, "contact": "13800001111"},
            {"contact": ["只有评价为“不满意”或“非常不满意”时才需要留联系方式。"]},
        ),
        ("notjson", {"non_field_errors": ["无效数据。期待为字典类型，得到的是 str 。"]}),
    ],
)
def test_bad_values_give_exact_field_errors_and_store_nothing(api_client, brand, body, errors):
    response = post(api_client, body)
    assert response.status_code == 400
    assert response.json() == errors
    assert Evaluation.objects.count() == 0


def test_malformed_json_is_a_400(api_client, brand):
    response = api_client.post(URL, "{bad", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize("status", ["draft", "submitted", "returned", "revoked"])
def test_non_public_brands_are_404(api_client, tree, status):
    make_brand(tree["community"], code="hidden", status=status)
    response = api_client.post("/api/v1/brands/hidden/evaluations/", {"overall": 5}, format="json")
    assert response.status_code == 404
    assert api_client.post("/api/v1/brands/nosuch/evaluations/", {"overall": 5}, format="json").status_code == 404
    assert Evaluation.objects.count() == 0


@override_settings(EVALUATION_THROTTLE_IP_BRAND=3, EVALUATION_POW_SOFT_LIMIT=100)
def test_throttle_gives_429_with_a_clear_message(api_client, brand):
    for i in range(3):
        assert post(api_client, {"overall": 5}, HTTP_X_DEVICE_ID=f"d{i}").status_code == 201
    response = post(api_client, {"overall": 5}, HTTP_X_DEVICE_ID="d9")
    assert response.status_code == 429
    assert response.json() == {"detail": "您所在网络提交的评价过多，请60分钟后再试。"}
    assert Evaluation.objects.count() == 3


@override_settings(EVALUATION_THROTTLE_IP_BRAND=2, EVALUATION_POW_SOFT_LIMIT=100, TRUSTED_PROXY_COUNT=0)
def test_forged_x_forwarded_for_does_not_change_the_throttle_key(api_client, brand):
    for i in range(2):
        forged = f"203.0.113.{i}"
        assert (
            post(api_client, {"overall": 5}, HTTP_X_FORWARDED_FOR=forged, HTTP_X_DEVICE_ID=f"d{i}").status_code == 201
        )
    response = post(api_client, {"overall": 5}, HTTP_X_FORWARDED_FOR="198.51.100.7", HTTP_X_DEVICE_ID="d3")
    assert response.status_code == 429
    assert set(Evaluation.objects.values_list("ip_hash", flat=True)) == {
        __import__("evaluations.integrity", fromlist=["x"]).salted_hash("ip", "127.0.0.1")
    }


@override_settings(EVALUATION_THROTTLE_IP_BRAND=2, EVALUATION_POW_SOFT_LIMIT=100, TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_only_the_rightmost_entry_counts(api_client, brand):
    # The client forges a left entry; the proxy appends the real address on the right.
    for i in range(2):
        headers = {"HTTP_X_FORWARDED_FOR": f"1.1.1.{i}, 198.51.100.20", "HTTP_X_DEVICE_ID": f"d{i}"}
        assert post(api_client, {"overall": 5}, **headers).status_code == 201
    blocked = post(api_client, {"overall": 5}, HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.20", HTTP_X_DEVICE_ID="x")
    assert blocked.status_code == 429
    other = post(api_client, {"overall": 5}, HTTP_X_FORWARDED_FOR="198.51.100.21", HTTP_X_DEVICE_ID="y")
    assert other.status_code == 201


def test_same_device_header_twice_is_accepted_but_counted_once(api_client, brand):
    first = post(api_client, {"overall": 5}, HTTP_X_DEVICE_ID="phone-1")
    second = post(api_client, {"overall": 5}, HTTP_X_DEVICE_ID="phone-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["already_rated"] is True
    assert Evaluation.objects.filter(state="counted").count() == 1
    assert Evaluation.objects.count() == 2


def test_a_made_up_device_id_or_user_agent_counts_as_the_address_alone(api_client, brand):
    assert post(api_client, {"overall": 5}, HTTP_USER_AGENT="A", HTTP_X_DEVICE_ID="x1").json()["already_rated"] is False
    assert post(api_client, {"overall": 5}, HTTP_USER_AGENT="B", HTTP_X_DEVICE_ID="x2").json()["already_rated"] is True
    assert Evaluation.objects.filter(state="counted").count() == 1


def test_a_device_id_the_server_issued_is_its_own_device(api_client, brand):
    first, second = (api_client.get(URL).json()["device_id"] for _ in range(2))
    assert first != second
    assert post(api_client, {"overall": 5}, HTTP_X_DEVICE_ID=first).json()["already_rated"] is False
    assert post(api_client, {"overall": 5}, HTTP_X_DEVICE_ID=second).json()["already_rated"] is False
    assert post(api_client, {"overall": 5}, HTTP_X_DEVICE_ID=second).json()["already_rated"] is True
    assert Evaluation.objects.filter(state="counted").count() == 2


def test_challenge_endpoint_says_when_proof_of_work_is_needed(api_client, brand):
    body = api_client.get(URL).json()
    assert body["pow_required"] is False
    assert set(body["challenge"]) >= {"algorithm", "challenge", "salt", "signature", "maxnumber"}


def test_track_api_shows_the_rating_masked_and_its_rectification(api_client, brand, secretary):
    receipt = post(api_client, {"overall": 1, "comment": "<script>alert(1)</script>", "contact": "13812345678"}).json()[
        "receipt"
    ]
    response = api_client.get(f"/api/v1/evaluations/{receipt}/")
    assert response.status_code == 200
    body = response.json()
    rectification = Rectification.objects.get()
    assert body == {
        "receipt": receipt,
        "brand": "hyl01",
        "brand_name": "红色家园",
        "overall": 1,
        "management": None,
        "service": None,
        "quality": None,
        "rater_group": "masses",
        "comment": "<script>alert(1)</script>",
        "contact": "138****5678",
        "rated_on": str(Evaluation.objects.get().rated_on),
        "counted": True,
        "status": "counted",
        "verified": False,
        "reasons": [],
        "rectification": {
            "status": "open",
            "due_on": str(rectification.due_on),
            "is_overdue": False,
            "response": "",
            "responded_at": None,
            "verdict": "",
        },
    }
    assert api_client.get("/api/v1/evaluations/NOSUCHRECEIPT000/").status_code == 404


# --- rectifications API --------------------------------------------------------------


def make_rectifications(brand, n, start=0):
    from evaluations import integrity, services

    for i in range(start, start + n):
        signals = integrity.ClientSignals(ip=f"10.{i // 200}.{i % 200}.1", device_key=f"d{i}")
        # With a contact every bad review opens a rectification, even past a surge hold.
        services.evaluation_submit(brand=brand, overall=1, contact="13800000000", signals=signals, channel="api")


def test_rectification_list_is_scoped(api_client, brand, other_brand, secretary, other_secretary, city_reviewer):
    make_rectifications(brand, 2)
    make_rectifications(other_brand, 1, start=10)
    api_client.force_authenticate(secretary)
    body = api_client.get("/api/v1/rectifications/").json()
    assert body["count"] == 2
    assert {row["brand"] for row in body["results"]} == {"hyl01"}
    api_client.force_authenticate(other_secretary)
    assert [row["brand"] for row in api_client.get("/api/v1/rectifications/").json()["results"]] == ["hr01"]
    api_client.force_authenticate(city_reviewer)
    assert api_client.get("/api/v1/rectifications/").json()["count"] == 3
    assert api_client.get("/api/v1/rectifications/", {"status": "open"}).json()["count"] == 3
    for bad in ("bogus", "\x00"):
        response = api_client.get("/api/v1/rectifications/", {"status": bad}, HTTP_ACCEPT_LANGUAGE="en")
        assert (response.status_code, list(response.json())) == (400, ["status"])


def test_the_callback_contact_is_shown_in_full_only_to_those_who_call_back(api_client, brand, secretary, city_reviewer):
    from evaluations import integrity, services

    signals = integrity.ClientSignals(ip="10.0.0.1", device_key="c")
    services.evaluation_submit(brand=brand, overall=1, contact="13812345678", signals=signals, channel="api")
    api_client.force_authenticate(secretary)
    assert api_client.get("/api/v1/rectifications/").json()["results"][0]["contact"] == "13812345678"
    api_client.force_authenticate(city_reviewer)
    assert api_client.get("/api/v1/rectifications/").json()["results"][0]["contact"] == "138****5678"


def test_rectification_list_needs_login(api_client, brand):
    assert api_client.get("/api/v1/rectifications/").status_code in (401, 403)


@pytest.mark.parametrize("rows", [1, 20])
def test_rectification_list_query_count_does_not_grow(api_client, brand, secretary, rows):
    make_rectifications(brand, rows)
    api_client.force_authenticate(secretary)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get("/api/v1/rectifications/")
    assert response.json()["count"] == rows
    assert len(queries) == 3  # memberships, count, page


def test_respond_through_the_api(api_client, brand, secretary):
    make_rectifications(brand, 1)
    rectification = Rectification.objects.get()
    api_client.force_authenticate(secretary)
    response = api_client.post(f"/api/v1/rectifications/{rectification.pk}/respond/", {"response": "已处理"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["response"]) == ("responded", "已处理")
    again = api_client.post(f"/api/v1/rectifications/{rectification.pk}/respond/", {"response": "再答"})
    assert again.status_code == 409
    assert again.json() == {"detail": "整改处于“已答复”状态，不能进行此操作。"}
    empty = api_client.post(f"/api/v1/rectifications/{rectification.pk}/respond/", {"response": ""})
    assert empty.status_code == 400
    assert empty.json() == {"response": ["该字段不能为空。"]}


def test_another_organization_cannot_respond_or_see(api_client, brand, other_secretary, district_reviewer, outsider):
    make_rectifications(brand, 1)
    rectification = Rectification.objects.get()
    url = f"/api/v1/rectifications/{rectification.pk}/respond/"
    for user in (other_secretary, district_reviewer, outsider):  # a reviewer may see but not respond
        api_client.force_authenticate(user)
        assert api_client.post(url, {"response": "x"}).status_code == 404
    assert api_client.post("/api/v1/rectifications/999999/respond/", {"response": "x"}).status_code == 404
    api_client.force_authenticate(other_secretary)
    assert api_client.get("/api/v1/rectifications/").json()["count"] == 0
    rectification.refresh_from_db()
    assert rectification.status == "open"


def test_the_schema_documents_the_evaluation_endpoints(client, db):
    body = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/brands/{code}/evaluations/:",
        "/api/v1/evaluations/{receipt}/:",
        "/api/v1/rectifications/:",
        "/api/v1/rectifications/{id}/respond/:",
    ):
        assert path in body
    assert "EvaluationReceipt:" in body and "GradeEnum:" in body


def test_the_submit_endpoint_takes_json_only(api_client, brand):
    response = api_client.post(URL, {"overall": 5}, format="multipart")
    assert response.status_code == 415
    assert Evaluation.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_revoked_brand_stops_taking_ratings_at_once(api_client, tree, city_reviewer):
    from brands.services import brand_review
    from tests.factories import make_brand

    brand = make_brand(tree["community"], status="named", code="RVK234")
    first = api_client.post("/api/v1/brands/RVK234/evaluations/", {"overall": 5}, format="json")
    assert first.status_code == 201  # the brand is now in the submit path's cache
    brand_review(user=city_reviewer, brand=brand, decision="revoke", comment="不再开展")
    second = api_client.post(
        "/api/v1/brands/RVK234/evaluations/", {"overall": 5}, format="json", HTTP_X_DEVICE_ID="another-device"
    )
    assert second.status_code == 404
