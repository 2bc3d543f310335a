"""The brands API: visibility, tenancy, the transition table over HTTP, plans and milestones, query counts."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brands.models import Brand, BrandTransition, Milestone, Plan
from organizations.models import Membership, User
from tests.brands.conftest import image_bytes, set_status, upload
from tests.brands.test_services import DECISIONS, LEGAL
from tests.factories import BrandFactory, grant

pytestmark = pytest.mark.django_db
S = Brand.Status
URL = "/api/v1/brands/"


def as_user(client, user):
    client.force_authenticate(user)
    return client


# --- Anonymous --------------------------------------------------------------


def test_anonymous_reads_public_brands_only(api_client, community_brand, enterprise_brand):
    set_status(enterprise_brand, S.NAMED)
    response = api_client.get(URL)
    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == [enterprise_brand.code]
    assert api_client.get(f"{URL}{community_brand.code}/").status_code == 404
    detail = api_client.get(f"{URL}{enterprise_brand.code}/").json()
    assert (detail["name"], detail["status"], detail["commitments"]) == ("海润先锋", "named", [])


def test_anonymous_writes_are_401(api_client, community_brand, tree):
    code = community_brand.code
    calls = [
        ("post", URL, {"organization": tree["community"].pk, "name": "x"}),
        ("patch", f"{URL}{code}/", {"name": "x"}),
        ("post", f"{URL}{code}/submit/", {}),
        ("post", f"{URL}{code}/review/", {"decision": "approve"}),
        ("post", f"{URL}{code}/commitments/", {"text": "x"}),
        ("put", f"{URL}{code}/plan/", {"start_year": 2025, "end_year": 2026, "goals": "g"}),
        ("post", f"{URL}{code}/milestones/", {"title": "x", "due_date": "2025-01-01"}),
    ]
    for method, url, data in calls:
        assert (url, getattr(api_client, method)(url, data).status_code) == (url, 401)
    assert Brand.objects.get().name == "红色家园"


# --- Create and update ------------------------------------------------------


def test_create_in_managed_organization(api_client, tree, secretary):
    response = as_user(api_client, secretary).post(
        URL,
        {"organization": tree["grid"].pk, "name": "网格连心", "concept": "一格一员", "service_targets": ["masses"]},
    )
    assert response.status_code == 201
    body = response.json()
    brand = Brand.objects.get()
    assert (body["code"], body["status"], body["organization"], body["progress_percent"]) == (
        brand.code,
        "draft",
        tree["grid"].pk,
        0,
    )


def test_create_in_foreign_organization_is_400(api_client, tree, secretary):
    client = as_user(api_client, secretary)
    response = client.post(URL, {"organization": tree["enterprise"].pk, "name": "越权"})
    assert (response.status_code, response.json()) == (400, {"organization": ["只能为您负责的党组织创建品牌。"]})
    response = client.post(URL, {"organization": tree["enterprise"].pk, "name": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json() == {"organization": ["You can only file brands for organizations you manage."]}
    # An id no organization has gets the same answer: the API does not tell which ids exist.
    response = client.post(URL, {"organization": 999_999, "name": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response.json()) == (
        400,
        {"organization": ["You can only file brands for organizations you manage."]},
    )
    assert Brand.objects.count() == 0


def test_create_with_bad_input_gives_field_errors(api_client, tree, secretary):
    response = as_user(api_client, secretary).post(
        URL, {"organization": tree["community"].pk, "name": "", "service_targets": ["aliens"], "level": "galaxy"}
    )
    assert response.status_code == 400
    assert sorted(response.json()) == ["level", "name", "service_targets"]


def test_create_with_logo_upload(api_client, tree, secretary):
    client = as_user(api_client, secretary)
    data = {"organization": tree["community"].pk, "name": "有标识", "logo": upload("l.jpg", image_bytes())}
    response = client.post(URL, data, format="multipart")
    assert response.status_code == 201
    assert response.json()["logo_url"].startswith("http://testserver/media/brands/logos/small/")
    bad = {"organization": tree["community"].pk, "name": "坏标识", "logo": upload("l.png", b"text", "image/png")}
    response = client.post(URL, bad, format="multipart")
    assert (response.status_code, response.json()) == (400, {"logo": ["这个文件不是 JPEG、PNG 或 WebP 图片。"]})
    assert Brand.objects.count() == 1


def test_patch_by_owner_only(api_client, community_brand, secretary, other_secretary, district_reviewer):
    url = f"{URL}{community_brand.code}/"
    assert as_user(api_client, other_secretary).patch(url, {"name": "抢"}).status_code == 404
    assert as_user(api_client, district_reviewer).patch(url, {"name": "抢"}).status_code == 404
    response = as_user(api_client, secretary).patch(url, {"slogan": "新口号", "organization": 999})
    assert (response.status_code, response.json()["slogan"]) == (200, "新口号")
    assert Brand.objects.get().organization_id == community_brand.organization_id
    set_status(community_brand, S.SUBMITTED)
    response = api_client.patch(url, {"slogan": "再改"})
    assert response.status_code == 400
    assert response.json() == {"detail": "品牌只有在草稿或退回状态时才能修改；当前状态为“已提交”。"}


def test_private_brand_visibility(api_client, community_brand, secretary, other_secretary, district_reviewer, outsider):
    url = f"{URL}{community_brand.code}/"
    assert as_user(api_client, secretary).get(url).status_code == 200
    assert as_user(api_client, district_reviewer).get(url).status_code == 200
    assert as_user(api_client, other_secretary).get(url).status_code == 404
    assert as_user(api_client, outsider).get(url).status_code == 404
    assert [r["code"] for r in as_user(api_client, secretary).get(URL).json()["results"]] == [community_brand.code]
    assert as_user(api_client, other_secretary).get(URL).json()["results"] == []


# --- Transitions over HTTP --------------------------------------------------


@pytest.mark.parametrize(("decision", "from_status"), [(d, s) for d in DECISIONS for s in S.values])
def test_transition_table_over_the_api(
    api_client, community_brand, secretary, district_reviewer, decision, from_status
):
    brand = set_status(community_brand, from_status)
    if decision == "submit":
        response = as_user(api_client, secretary).post(f"{URL}{brand.code}/submit/", {"comment": ""})
    else:
        response = as_user(api_client, district_reviewer).post(
            f"{URL}{brand.code}/review/", {"decision": decision, "comment": "理由"}
        )
    if (decision, from_status) in LEGAL:
        assert response.status_code == 200
        assert response.json()["status"] == LEGAL[(decision, from_status)]
        assert BrandTransition.objects.count() == 1
    else:
        assert response.status_code == 400
        assert list(response.json()) == ["detail"]
        assert response.json()["detail"].startswith("处于“")
        assert Brand.objects.get().status == from_status
        assert BrandTransition.objects.count() == 0


def test_review_scope_over_the_api(api_client, community_brand, enterprise_brand, district_reviewer, secretary):
    set_status(community_brand, S.SUBMITTED)
    set_status(enterprise_brand, S.SUBMITTED)
    client = as_user(api_client, district_reviewer)
    assert client.post(f"{URL}{enterprise_brand.code}/review/", {"decision": "approve"}).status_code == 404
    assert client.post(f"{URL}{community_brand.code}/review/", {"decision": "approve"}).status_code == 200
    assert client.post(f"{URL}{community_brand.code}/submit/").status_code == 404  # reviewers do not submit
    set_status(community_brand, S.SUBMITTED)
    assert (
        as_user(api_client, secretary).post(f"{URL}{community_brand.code}/review/", {"decision": "approve"}).status_code
        == 404
    )


def test_self_approval_over_the_api_is_403(api_client, tree, community_brand, secretary):
    grant(secretary, tree["city"], Membership.Role.REVIEWER)
    set_status(community_brand, S.SUBMITTED)
    response = as_user(api_client, secretary).post(f"{URL}{community_brand.code}/review/", {"decision": "approve"})
    assert response.status_code == 403
    assert response.json() == {"detail": "您负责这个党组织，不能审核它的品牌，需由其他审核人员审核。"}


def test_review_input_errors(api_client, community_brand, district_reviewer):
    set_status(community_brand, S.SUBMITTED)
    client = as_user(api_client, district_reviewer)
    response = client.post(f"{URL}{community_brand.code}/review/", {"decision": "promote"})
    assert (response.status_code, list(response.json())) == (400, ["decision"])
    response = client.post(f"{URL}{community_brand.code}/review/", {"decision": "return", "comment": ""})
    assert (response.status_code, response.json()) == (400, {"comment": ["请写明需要修改的地方。"]})


# --- Commitments, plan and milestones ---------------------------------------


def test_plan_and_milestones(api_client, community_brand, secretary, other_secretary):
    client = as_user(api_client, secretary)
    base = f"{URL}{community_brand.code}"
    assert client.get(f"{base}/plan/").status_code == 404  # no plan yet
    response = client.post(f"{base}/milestones/", {"title": "a", "due_date": "2025-06-30", "weight": 2})
    assert (response.status_code, response.json()) == (400, {"detail": "请先填写长计划，再添加节点。"})
    response = client.put(f"{base}/plan/", {"start_year": 2025, "end_year": 2027, "goals": "三年"})
    assert (response.status_code, response.json()["milestones"]) == (200, [])
    response = client.put(f"{base}/plan/", {"start_year": 2027, "end_year": 2025, "goals": "x"})
    assert (response.status_code, response.json()) == (400, {"end_year": ["结束年份不能早于开始年份。"]})
    a = client.post(f"{base}/milestones/", {"title": "a", "due_date": "2025-06-30", "weight": 3}).json()
    client.post(f"{base}/milestones/", {"title": "b", "due_date": "2099-06-30", "weight": 1})
    assert client.post(f"{base}/milestones/", {"title": "c", "due_date": "2025-06-30", "weight": 0}).status_code == 400
    response = client.patch(f"{base}/milestones/{a['id']}/", {"done": True, "title": "a1"})
    assert (response.status_code, response.json()["done"], response.json()["title"]) == (200, True, "a1")
    assert client.get(f"{base}/").json()["progress_percent"] == 75
    assert [m["title"] for m in client.get(f"{base}/milestones/").json()] == ["a1", "b"]
    client.post(f"{base}/commitments/", {"text": "当天答复"})
    assert [c["text"] for c in client.get(f"{base}/commitments/").json()] == ["当天答复"]
    other = as_user(api_client, other_secretary)
    for method, url, data in [
        ("get", f"{base}/plan/", None),
        ("put", f"{base}/plan/", {"start_year": 2025, "end_year": 2026, "goals": "g"}),
        ("get", f"{base}/milestones/", None),
        ("post", f"{base}/milestones/", {"title": "x", "due_date": "2025-01-01"}),
        ("get", f"{base}/milestones/{a['id']}/", None),
        ("patch", f"{base}/milestones/{a['id']}/", {"done": False}),
        ("get", f"{base}/commitments/", None),
        ("post", f"{base}/commitments/", {"text": "x"}),
        ("post", f"{base}/submit/", {}),
    ]:
        assert (method, url, getattr(other, method)(url, data).status_code) == (method, url, 404)
    assert Milestone.objects.filter(completed_on__isnull=False).count() == 1
    assert Plan.objects.get().goals == "三年"


def test_out_of_range_weights_and_years_and_a_bad_done_are_400_and_change_nothing(
    api_client, community_brand, secretary
):
    client = as_user(api_client, secretary)
    base = f"{URL}{community_brand.code}"
    huge = 9223372036854775807
    response = client.put(f"{base}/plan/", {"start_year": 2025, "end_year": 10**30, "goals": "g"}, format="json")
    assert (response.status_code, list(response.json())) == (400, ["end_year"])
    client.put(f"{base}/plan/", {"start_year": 2025, "end_year": 2027, "goals": "三年"})
    response = client.post(f"{base}/milestones/", {"title": "a", "due_date": "2025-06-30", "weight": 101})
    assert (response.status_code, list(response.json())) == (400, ["weight"])
    a = client.post(f"{base}/milestones/", {"title": "a", "due_date": "2025-06-30", "weight": 3}).json()
    response = client.patch(f"{base}/milestones/{a['id']}/", {"weight": huge}, format="json")
    assert (response.status_code, list(response.json())) == (400, ["weight"])
    response = client.patch(f"{base}/milestones/{a['id']}/", {"title": "CHANGED", "done": "maybe"}, format="json")
    assert (response.status_code, list(response.json())) == (400, ["done"])
    assert Milestone.objects.values_list("title", "weight").get() == ("a", 3)
    assert client.get(f"{base}/").status_code == 200


def test_milestone_of_another_organization_is_404_under_own_brand(
    api_client, community_brand, enterprise_brand, secretary, other_secretary
):
    from tests.brands.conftest import make_programme

    make_programme(community_brand, secretary)
    foreign = make_programme(set_status(enterprise_brand, S.NAMED), other_secretary)["milestone"]
    own_url = f"{URL}{community_brand.code}/milestones/{foreign.pk}/"
    client = as_user(api_client, secretary)
    assert client.get(own_url).status_code == 404
    assert client.patch(own_url, {"done": True, "title": "抢"}).status_code == 404
    # the foreign brand is public: its milestone reads there, but the secretary cannot write it
    foreign_url = f"{URL}{enterprise_brand.code}/milestones/{foreign.pk}/"
    assert client.get(foreign_url).json()["title"] == "节点"
    assert client.patch(foreign_url, {"done": True}).status_code == 404
    assert Milestone.objects.get(pk=foreign.pk).title == "节点"
    assert Milestone.objects.get(pk=foreign.pk).completed_on is None


def test_milestone_of_a_private_brand_is_404_to_others(
    api_client, community_brand, secretary, other_secretary, district_reviewer, outsider
):
    from tests.brands.conftest import make_programme

    milestone = make_programme(community_brand, secretary)["milestone"]
    url = f"{URL}{community_brand.code}/milestones/{milestone.pk}/"
    assert api_client.get(url).status_code == 404
    for user in (other_secretary, outsider):
        assert as_user(api_client, user).get(url).status_code == 404
    assert as_user(api_client, district_reviewer).get(url).json()["title"] == "节点"  # VIEW reaches the subtree
    assert api_client.patch(url, {"title": "改"}).status_code == 404  # reviewers do not manage
    assert as_user(api_client, secretary).patch(url, {"title": "改"}).json()["title"] == "改"


def test_public_plan_is_readable_anonymously(api_client, community_brand, secretary):
    Plan.objects.create(
        brand=community_brand,
        organization_id=community_brand.organization_id,
        start_year=2025,
        end_year=2026,
        goals="g",
    )
    assert api_client.get(f"{URL}{community_brand.code}/plan/").status_code == 404
    set_status(community_brand, S.CULTIVATING)
    assert api_client.get(f"{URL}{community_brand.code}/plan/").json()["goals"] == "g"


# --- Query counts and schema ------------------------------------------------


def test_list_query_count_is_flat(api_client, tree, secretary):
    def count():
        as_user(api_client, User.objects.get(pk=secretary.pk))  # no membership cache carried over
        with CaptureQueriesContext(connection) as queries:
            assert api_client.get(URL).status_code == 200
        return len(queries)

    BrandFactory(organization=tree["community"], status=S.NAMED)
    one = count()
    for i in range(19):
        BrandFactory(organization=tree["enterprise" if i % 2 else "grid"], status=S.CULTIVATING)
    assert api_client.get(URL).json()["count"] == 20
    assert count() == one


def test_schema_generates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--fail-on-warn", "--validate", stdout=out)
    schema = out.getvalue()
    for path in ("/api/v1/brands/{code}/review/", "/api/v1/brands/{code}/plan/", "/api/v1/brands/{code}/milestones/"):
        assert path in schema


def test_put_on_a_brand_is_not_allowed(api_client, community_brand, secretary):
    response = as_user(api_client, secretary).put(f"{URL}{community_brand.code}/", {"name": "x"})
    assert response.status_code == 405
    assert Brand.objects.get().name == "红色家园"


def test_commitment_and_milestone_lists_query_counts_are_flat(api_client, community_brand, secretary):
    from django.utils import timezone

    from brands.models import Commitment

    plan = Plan.objects.create(
        brand=community_brand,
        organization_id=community_brand.organization_id,
        start_year=2025,
        end_year=2026,
        goals="g",
    )
    base = f"{URL}{community_brand.code}"

    def add(n):
        for i in range(n):
            Commitment.objects.create(
                brand=community_brand, organization_id=community_brand.organization_id, text=f"c{i}", position=i
            )
            Milestone.objects.create(
                plan=plan, organization_id=plan.organization_id, title=f"m{i}", due_date=timezone.localdate(), weight=1
            )

    def counts():
        as_user(api_client, User.objects.get(pk=secretary.pk))
        result = []
        for url in (f"{base}/commitments/", f"{base}/milestones/", f"{base}/plan/"):
            with CaptureQueriesContext(connection) as queries:
                assert api_client.get(url).status_code == 200
            result.append(len(queries))
        return result

    add(1)
    one = counts()
    add(19)
    assert len(api_client.get(f"{base}/milestones/").json()) == 20
    assert counts() == one


def test_superuser_lists_every_brand(api_client, community_brand, enterprise_brand):
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True)
    set_status(enterprise_brand, S.NAMED)
    codes = [row["code"] for row in as_user(api_client, root).get(URL).json()["results"]]
    assert sorted(codes) == sorted([community_brand.code, enterprise_brand.code])
