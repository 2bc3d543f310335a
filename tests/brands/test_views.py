"""Pages: who reaches which workspace and dashboard page, public visibility, forms, query counts."""

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brands.models import Brand, BrandTransition, Case, Commitment, Milestone, Plan, ProgressReport, ReportPhoto
from tests.brands.conftest import set_status
from tests.factories import BrandFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Brand.Status


@pytest.fixture
def programme(community_brand):
    """The community brand with one of everything hanging off it."""
    plan = Plan.objects.create(
        brand=community_brand,
        organization_id=community_brand.organization_id,
        start_year=2025,
        end_year=2027,
        goals="目标",
    )
    milestone = Milestone.objects.create(
        plan=plan, organization_id=plan.organization_id, title="节点", due_date=timezone.localdate(), weight=2
    )
    commitment = Commitment.objects.create(
        brand=community_brand, organization_id=community_brand.organization_id, text="当天答复", position=1
    )
    case = Case.objects.create(
        brand=community_brand,
        organization_id=community_brand.organization_id,
        title="经验",
        summary="摘要",
        body="正文",
        author=UserFactory(),
    )
    return {"brand": community_brand, "milestone": milestone, "commitment": commitment, "case": case}


def workspace_urls(p):
    code, m, c, k = p["brand"].code, p["milestone"].pk, p["commitment"].pk, p["case"].pk
    return {
        "get": [
            f"/workspace/brands/{code}/",
            f"/workspace/brands/{code}/edit/",
            f"/workspace/brands/{code}/plan/",
            f"/workspace/brands/{code}/milestones/new/",
            f"/workspace/brands/{code}/milestones/{m}/",
            f"/workspace/brands/{code}/milestones/{m}/report/",
            f"/workspace/brands/{code}/cases/new/",
            f"/workspace/brands/{code}/cases/{k}/",
            f"/workspace/brands/{code}/commitments/{c}/",
        ],
        "post": [
            f"/workspace/brands/{code}/submit/",
            f"/workspace/brands/{code}/commitments/",
            f"/workspace/brands/{code}/milestones/{m}/done/",
            f"/workspace/brands/{code}/commitments/{c}/",
            f"/workspace/brands/{code}/plan/",
        ],
    }


@pytest.fixture
def case_author(secretary, programme):
    Case.objects.filter(pk=programme["case"].pk).update(author=secretary)
    return programme


def test_owner_reaches_every_workspace_page(client, secretary, case_author):
    client.force_login(secretary)
    for url in workspace_urls(case_author)["get"]:
        assert (url, client.get(url).status_code) == (url, 200)


@pytest.mark.parametrize("who", ["other_secretary", "district_reviewer", "city_reviewer", "outsider"])
def test_others_get_404_on_every_workspace_page(client, request, case_author, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    urls = workspace_urls(case_author)
    for url in urls["get"]:
        assert (url, client.get(url).status_code) == (url, 404)
    for url in urls["post"]:
        assert (url, client.post(url, {"text": "x", "done": "1"}).status_code) == (url, 404)
    assert Brand.objects.get().status == S.DRAFT
    assert Commitment.objects.count() == 1


CHILD_ID_URLS = {
    "commitment": ["/workspace/brands/{code}/commitments/{commitment}/"],
    "milestone": [
        "/workspace/brands/{code}/milestones/{milestone}/",
        "/workspace/brands/{code}/milestones/{milestone}/done/",
        "/workspace/brands/{code}/milestones/{milestone}/report/",
    ],
    "case": ["/workspace/brands/{code}/cases/{case}/"],
}


@pytest.mark.parametrize("kind", CHILD_ID_URLS)
@pytest.mark.parametrize("manages_both", [False, True])
def test_child_of_another_organization_under_own_brand_is_404(
    client, tree, secretary, community_brand, enterprise_brand, other_secretary, kind, manages_both
):
    """Own brand in the URL, another organization's row id: 404 (GET and every POST), nothing changes.

    Even a user who manages both organizations cannot reach one brand's row through the other brand's URL.
    """
    from organizations.models import Membership
    from tests.brands.conftest import make_programme
    from tests.factories import grant

    foreign = make_programme(enterprise_brand, other_secretary)
    if manages_both:
        grant(secretary, tree["enterprise"], Membership.Role.SECRETARY)
    client.force_login(secretary)
    ids = {k: foreign[k].pk for k in ("commitment", "milestone", "case")}
    for template in CHILD_ID_URLS[kind]:
        url = template.format(code=community_brand.code, **ids)
        if not url.endswith("/done/"):  # POST only
            assert (url, client.get(url).status_code) == (url, 404)
        for data in ({"text": "抢", "done": "1"}, {"action": "delete"}, {"action": "up"}, {"title": "抢"}):
            assert (url, client.post(url, data).status_code) == (url, 404)
    assert Commitment.objects.get(pk=foreign["commitment"].pk).text == "当天答复"
    assert Milestone.objects.get(pk=foreign["milestone"].pk).completed_on is None
    assert ProgressReport.objects.filter(milestone=foreign["milestone"]).count() == 1
    assert Case.objects.get(pk=foreign["case"].pk).title == "经验"


def test_anonymous_is_sent_to_login_from_private_pages(client, case_author):
    urls = workspace_urls(case_author)
    code = case_author["brand"].code
    private = [
        "/workspace/",
        "/workspace/brands/new/",
        *urls["get"],
        "/dashboard/",
        f"/dashboard/brands/{code}/",
    ]
    for url in private:
        response = client.get(url)
        assert (url, response.status_code, response["Location"]) == (url, 302, f"/accounts/login/?next={url}")
    for url in [*urls["post"], f"/dashboard/cases/{case_author['case'].pk}/publish/"]:
        assert client.post(url).status_code == 302


def test_workspace_home_lists_only_own_brands(client, secretary, other_secretary, community_brand, enterprise_brand):
    client.force_login(secretary)
    assert [b.code for b in client.get("/workspace/").context["brands"]] == [community_brand.code]
    client.force_login(other_secretary)
    assert [b.code for b in client.get("/workspace/").context["brands"]] == [enterprise_brand.code]


def test_dashboard_review_scope(client, district_reviewer, community_brand, enterprise_brand, secretary):
    set_status(community_brand, S.SUBMITTED)
    set_status(enterprise_brand, S.SUBMITTED)
    client.force_login(district_reviewer)
    response = client.get("/dashboard/")
    assert [b.code for b in response.context["queue"]] == [community_brand.code]
    assert client.get(f"/dashboard/brands/{community_brand.code}/").status_code == 200
    assert client.get(f"/dashboard/brands/{enterprise_brand.code}/").status_code == 404
    assert client.post(f"/dashboard/brands/{enterprise_brand.code}/", {"decision": "approve"}).status_code == 404
    assert Brand.objects.get(pk=enterprise_brand.pk).status == S.SUBMITTED
    response = client.post(f"/dashboard/brands/{community_brand.code}/", {"decision": "approve", "comment": "好"})
    assert response.status_code == 302
    assert Brand.objects.get(pk=community_brand.pk).status == S.CULTIVATING
    client.force_login(secretary)
    assert client.get("/dashboard/").status_code == 404
    assert client.get(f"/dashboard/brands/{community_brand.code}/").status_code == 404


def test_dashboard_counts_and_cases(client, district_reviewer, tree, case_author):
    set_status(case_author["brand"], S.NAMED)
    Case.objects.update(status=Case.Status.SUBMITTED)
    BrandFactory(organization=tree["grid"], status=S.SUBMITTED)
    BrandFactory(organization=tree["enterprise"], status=S.SUBMITTED)  # outside 市北区
    from django.utils import timezone

    from dashboards.services import figures_refresh

    figures_refresh()
    client.force_login(district_reviewer)
    today = timezone.localdate()
    response = client.get("/dashboard/", {"period": f"{today.year}-{today.month:02d}"})
    counts = {status: n for status, _label, n in response.context["figures"]["current"].statuses}
    assert counts == {
        "draft": 0,
        "submitted": 1,
        "returned": 0,
        "cultivating": 0,
        "named": 1,
        "demonstration": 0,
        "revoked": 0,
    }
    assert list(response.context["awaiting"]) == [case_author["case"]]
    assert client.post(f"/dashboard/cases/{case_author['case'].pk}/publish/").status_code == 302
    assert Case.objects.get().status == Case.Status.PUBLISHED


def test_publish_case_outside_subtree_is_404(client, district_reviewer, other_secretary, enterprise_brand):
    set_status(enterprise_brand, S.NAMED)
    case = Case.objects.create(
        brand=enterprise_brand,
        organization_id=enterprise_brand.organization_id,
        title="t",
        summary="s",
        body="b",
        author=other_secretary,
        status=Case.Status.SUBMITTED,
    )
    client.force_login(district_reviewer)
    assert client.post(f"/dashboard/cases/{case.pk}/publish/").status_code == 404
    assert Case.objects.get().status == Case.Status.SUBMITTED


def test_self_approval_is_refused_on_the_form(client, tree, secretary, community_brand):
    from organizations.models import Membership
    from tests.factories import grant

    grant(secretary, tree["district"], Membership.Role.REVIEWER)
    set_status(community_brand, S.SUBMITTED)
    client.force_login(secretary)
    response = client.post(f"/dashboard/brands/{community_brand.code}/", {"decision": "approve"})
    assert response.status_code == 403  # not allowed (the API's answer too), the form saying why
    assert response.context["form"].non_field_errors() == ["您负责这个党组织，不能审核它的品牌，需由其他审核人员审核。"]
    assert Brand.objects.get().status == S.SUBMITTED


def test_return_without_comment_is_a_form_error(client, district_reviewer, community_brand):
    set_status(community_brand, S.SUBMITTED)
    client.force_login(district_reviewer)
    response = client.post(f"/dashboard/brands/{community_brand.code}/", {"decision": "return", "comment": ""})
    assert response.context["form"].errors == {"comment": ["请写明需要修改的地方。"]}
    assert BrandTransition.objects.count() == 0


def test_illegal_decision_is_not_offered(client, district_reviewer, community_brand):
    set_status(community_brand, S.CULTIVATING)
    client.force_login(district_reviewer)
    response = client.post(f"/dashboard/brands/{community_brand.code}/", {"decision": "approve"})
    assert response.status_code == 200
    assert response.context["decisions"] == ["name", "revoke"]
    assert "decision" in response.context["form"].errors


# --- Workspace forms --------------------------------------------------------


def test_create_form_keeps_input_on_error_and_offers_only_managed_organizations(client, tree, secretary):
    client.force_login(secretary)
    response = client.get("/workspace/brands/new/")
    assert [o.pk for o in response.context["form"].fields["organization"].queryset] == [
        tree["community"].pk,
        tree["grid"].pk,
    ]
    response = client.post(
        "/workspace/brands/new/",
        {"organization": tree["community"].pk, "name": "", "slogan": "我的口号", "level": "grassroots"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["该字段是必填项。"], "service_targets": ["该字段是必填项。"]}
    assert 'value="我的口号"' in response.content.decode()
    response = client.post(
        "/workspace/brands/new/",
        {"organization": tree["enterprise"].pk, "name": "越权", "service_targets": ["masses"], "level": "grassroots"},
    )
    assert "organization" in response.context["form"].errors
    assert Brand.objects.count() == 0


def test_secretary_files_edits_and_submits(client, tree, secretary):
    client.force_login(secretary)
    response = client.post(
        "/workspace/brands/new/",
        {
            "organization": tree["grid"].pk,
            "name": "网格连心",
            "concept": "一格一员",
            "service_targets": ["masses", "members"],
            "level": "grassroots",
        },
    )
    brand = Brand.objects.get()
    assert response["Location"] == f"/workspace/brands/{brand.code}/"
    assert (brand.organization, brand.status, brand.service_targets) == (tree["grid"], S.DRAFT, ["members", "masses"])
    client.post(f"/workspace/brands/{brand.code}/commitments/", {"text": "当天答复"})
    client.post(f"/workspace/brands/{brand.code}/plan/", {"start_year": 2025, "end_year": 2027, "goals": "三年"})
    client.post(
        f"/workspace/brands/{brand.code}/milestones/new/",
        {"title": "启动", "due_date": "2025-06-30", "weight": 2, "description": ""},
    )
    milestone = Milestone.objects.get()
    client.post(
        f"/workspace/brands/{brand.code}/milestones/{milestone.pk}/report/", {"text": "已启动", "mark_done": "on"}
    )
    assert Milestone.objects.get().completed_on == timezone.localdate()
    assert ProgressReport.objects.get().text == "已启动"
    client.post(f"/workspace/brands/{brand.code}/submit/")
    assert Brand.objects.get().status == S.SUBMITTED
    page = client.get(f"/workspace/brands/{brand.code}/")
    assert page.context["brand"].progress_percent == 100
    assert [(t.from_status, t.to_status) for t in page.context["brand"].transition_list] == [("draft", "submitted")]
    assert client.get(f"/workspace/brands/{brand.code}/edit/").status_code == 302  # no edits while submitted
    response = client.post(f"/workspace/brands/{brand.code}/submit/", follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "品牌只有在草稿或退回状态时才能修改。",  # from the refused edit above
        "处于“已提交”状态的品牌不能执行“提交审核”。",
    ]


def test_plan_form_refuses_reversed_years(client, secretary, community_brand):
    client.force_login(secretary)
    response = client.post(
        f"/workspace/brands/{community_brand.code}/plan/", {"start_year": 2027, "end_year": 2025, "goals": "g"}
    )
    assert response.context["form"].errors == {"end_year": ["结束年份不能早于开始年份。"]}
    assert Plan.objects.count() == 0


def test_plan_and_milestone_forms_refuse_numbers_out_of_range(client, secretary, programme):
    client.force_login(secretary)
    base = f"/workspace/brands/{programme['brand'].code}"
    response = client.post(f"{base}/plan/", {"start_year": 2025, "end_year": "9" * 30, "goals": "g"})
    assert (response.status_code, list(response.context["form"].errors)) == (200, ["end_year"])
    data = {"title": "t", "due_date": "2026-06-01", "weight": "9" * 30}
    for url in (f"{base}/milestones/new/", f"{base}/milestones/{programme['milestone'].pk}/"):
        response = client.post(url, data)
        assert (response.status_code, list(response.context["form"].errors)) == (200, ["weight"])
    assert Milestone.objects.get(pk=programme["milestone"].pk).weight == programme["milestone"].weight


def test_report_with_a_bad_photo_is_a_form_error(client, secretary, programme):
    from tests.brands.conftest import image_bytes, upload

    client.force_login(secretary)
    url = f"/workspace/brands/{programme['brand'].code}/milestones/{programme['milestone'].pk}/report/"
    response = client.post(
        url, {"text": "进展", "photos": [upload("a.jpg", image_bytes()), upload("b.png", b"text", "image/png")]}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"photos": ["b.png: 这个文件不是 JPEG、PNG 或 WebP 图片。"]}
    assert ProgressReport.objects.count() == 0
    response = client.post(
        url, {"text": "进展", "photos": [upload("a.jpg", image_bytes()), upload("c.jpg", image_bytes())]}
    )
    assert response.status_code == 302
    assert ReportPhoto.objects.count() == 2


def test_commitment_edit_move_delete(client, secretary, community_brand):
    client.force_login(secretary)
    for text in ("一", "二"):
        client.post(f"/workspace/brands/{community_brand.code}/commitments/", {"text": text})
    second = Commitment.objects.get(text="二")
    client.post(f"/workspace/brands/{community_brand.code}/commitments/{second.pk}/", {"action": "up"})
    assert list(Commitment.objects.values_list("text", flat=True)) == ["二", "一"]
    client.post(f"/workspace/brands/{community_brand.code}/commitments/{second.pk}/", {"text": "贰"})
    client.post(f"/workspace/brands/{community_brand.code}/commitments/{second.pk}/", {"action": "delete"})
    assert list(Commitment.objects.values_list("text", flat=True)) == ["一"]


# --- Public pages -----------------------------------------------------------


@pytest.mark.parametrize("status", [S.DRAFT, S.SUBMITTED, S.RETURNED, S.REVOKED])
def test_private_statuses_are_404_to_the_public(client, community_brand, status):
    set_status(community_brand, status)
    assert client.get(f"/b/{community_brand.code}/").status_code == 404
    assert client.get("/brands/").context["page"].paginator.count == 0


@pytest.mark.parametrize("status", [S.CULTIVATING, S.NAMED, S.DEMONSTRATION])
def test_public_statuses_are_shown(client, community_brand, status):
    set_status(community_brand, status)
    response = client.get(f"/b/{community_brand.code}/")
    assert response.status_code == 200
    assert response.context["brand"].name == "红色家园"


def test_unknown_code_is_404(client, tree):
    assert client.get("/b/NOPE23/").status_code == 404


def test_directory_search_and_filters(client, tree):
    BrandFactory(organization=tree["community"], name="红色家园", concept="网格化服务", status=S.NAMED)
    BrandFactory(organization=tree["enterprise"], name="海润先锋", concept="供水质量", status=S.CULTIVATING)
    BrandFactory(organization=tree["grid"], name="草稿品牌", concept="网格", status=S.DRAFT)

    def names(query):
        return [b.name for b in client.get("/brands/", query).context["page"]]

    assert names({}) == ["红色家园", "海润先锋"]
    assert names({"q": "网格"}) == ["红色家园"]
    assert names({"domain": "soe"}) == ["海润先锋"]
    assert names({"region": "青岛市"}) == ["海润先锋"]
    assert names({"status": "named"}) == ["红色家园"]
    assert names({"status": "draft"}) == ["红色家园", "海润先锋"]  # not a public status: ignored
    assert names({"q": "华阳路"}) == ["红色家园"]  # the owning organization's name
    assert names({"q": "网\x00格", "region": "\x00"}) == ["红色家园"]  # NUL dropped (PostgreSQL refuses it)


def test_directory_paginates(client, tree):
    for _ in range(13):
        BrandFactory(organization=tree["community"], status=S.CULTIVATING)
    assert len(client.get("/brands/").context["page"]) == 12
    assert len(client.get("/brands/?page=2").context["page"]) == 1
    assert len(client.get("/brands/?page=abc").context["page"]) == 12


def test_cases_page_filters_by_domain(client, tree, secretary):
    community = BrandFactory(organization=tree["community"], status=S.NAMED)
    enterprise = BrandFactory(organization=tree["enterprise"], status=S.NAMED)
    now = timezone.now()
    for brand, title in ((community, "社区经验"), (enterprise, "企业经验")):
        Case.objects.create(
            brand=brand,
            organization_id=brand.organization_id,
            title=title,
            summary="s",
            body="b",
            author=secretary,
            status="published",
            published_at=now,
        )
    Case.objects.create(
        brand=community,
        organization_id=community.organization_id,
        title="未发布",
        summary="s",
        body="b",
        author=secretary,
    )
    assert sorted(c.title for c in client.get("/cases/").context["page"]) == ["企业经验", "社区经验"]
    assert [c.title for c in client.get("/cases/?domain=community").context["page"]] == ["社区经验"]
    draft = Case.objects.get(title="未发布")
    assert client.get(f"/cases/{draft.pk}/").status_code == 404


# --- Query counts -----------------------------------------------------------


def make_public_brands(tree, n, secretary):
    today = timezone.localdate()
    for i in range(n):
        brand = BrandFactory(organization=tree["community" if i % 2 else "enterprise"], status=S.NAMED)
        plan = Plan.objects.create(
            brand=brand, organization_id=brand.organization_id, start_year=2025, end_year=2026, goals="g"
        )
        Milestone.objects.create(
            plan=plan, organization_id=plan.organization_id, title="m", due_date=today, weight=1, completed_on=today
        )
        Case.objects.create(
            brand=brand,
            organization_id=brand.organization_id,
            title="c",
            summary="s",
            body="b",
            author=secretary,
            status="published",
            published_at=timezone.now(),
        )


def make_rich_brand(tree, n, secretary):
    brand = BrandFactory(organization=tree["community"], status=S.NAMED, code="RICH23")
    plan = Plan.objects.create(
        brand=brand, organization_id=brand.organization_id, start_year=2025, end_year=2026, goals="g"
    )
    for i in range(n):
        Commitment.objects.create(brand=brand, organization_id=brand.organization_id, text=f"承诺{i}", position=i)
        milestone = Milestone.objects.create(
            plan=plan,
            organization_id=plan.organization_id,
            title=f"m{i}",
            due_date=timezone.localdate() - datetime.timedelta(days=i),
            weight=1,
        )
        report = ProgressReport.objects.create(
            milestone=milestone, organization_id=milestone.organization_id, author=secretary, text="r"
        )
        ReportPhoto.objects.create(
            report=report,
            organization_id=report.organization_id,
            image="brands/photos/x.jpg",
            thumbnail="brands/photos/thumbs/x.jpg",
        )
        Case.objects.create(
            brand=brand,
            organization_id=brand.organization_id,
            title="c",
            summary="s",
            body="b",
            author=secretary,
            status="published",
            published_at=timezone.now(),
        )
    return brand


def count_queries(client, url) -> int:
    cache.clear()  # the rows were made without the services: render the page, not the page cache's copy
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_counts_directory_and_cases(client, tree, secretary):
    make_public_brands(tree, 1, secretary)
    counts_1 = [count_queries(client, u) for u in ("/brands/", "/cases/")]
    make_public_brands(tree, 19, secretary)
    counts_20 = [count_queries(client, u) for u in ("/brands/", "/cases/")]
    assert counts_1 == counts_20


# Constant in the number of rows; the last two read the published comments and the score summary.
@pytest.mark.parametrize("n", [1, 20])
def test_query_count_brand_page(client, tree, secretary, n, django_assert_num_queries):
    brand = make_rich_brand(tree, n, secretary)
    with django_assert_num_queries(9):
        assert client.get(f"/b/{brand.code}/").status_code == 200


def test_query_counts_workspace_and_dashboard(client, tree, secretary, district_reviewer):
    def fill(n):
        for _ in range(n):
            brand = BrandFactory(organization=tree["grid"], status=S.SUBMITTED)
            Case.objects.create(
                brand=brand,
                organization_id=brand.organization_id,
                title="c",
                summary="s",
                body="b",
                author=secretary,
                status=Case.Status.SUBMITTED,
            )

    def counts():
        client.force_login(secretary)
        own = count_queries(client, "/workspace/")
        client.force_login(district_reviewer)
        client.get("/dashboard/")  # the dashboard caches its ranking and priors per scores version
        return own, count_queries(client, "/dashboard/")

    fill(1)
    first = counts()
    fill(19)
    assert counts() == first


def test_workspace_brand_page_query_count(client, tree, secretary):
    brand = make_rich_brand(tree, 1, secretary)
    client.force_login(secretary)
    one = count_queries(client, f"/workspace/brands/{brand.code}/")
    plan = brand.plan
    for i in range(19):
        Commitment.objects.create(brand=brand, organization_id=brand.organization_id, text=f"更多{i}", position=100 + i)
        Milestone.objects.create(
            plan=plan, organization_id=plan.organization_id, title=f"x{i}", due_date=timezone.localdate(), weight=1
        )
    assert count_queries(client, f"/workspace/brands/{brand.code}/") == one


def test_home_features_demonstration_then_named_brands(client, tree, secretary):
    BrandFactory(organization=tree["community"], name="乙", status=S.NAMED)
    BrandFactory(organization=tree["community"], name="甲", status=S.DEMONSTRATION)
    BrandFactory(organization=tree["community"], name="丙", status=S.CULTIVATING)
    one = count_queries(client, "/")
    body = client.get("/").content.decode()
    assert body.index(">甲</a>") < body.index(">乙</a>")
    assert ">丙</a>" not in body
    for _ in range(20):
        BrandFactory(organization=tree["enterprise"], status=S.NAMED)
    assert count_queries(client, "/") == one


def test_lowercase_code_redirects_to_the_brand_page(client, community_brand):
    set_status(community_brand, S.NAMED)
    response = client.get(f"/b/{community_brand.code.lower()}/")
    assert (response.status_code, response["Location"]) == (301, f"/b/{community_brand.code}/")


def test_workspace_page_lists_commitments_once(client, secretary, community_brand):
    Commitment.objects.create(
        brand=community_brand, organization_id=community_brand.organization_id, text="独一无二的承诺", position=1
    )
    client.force_login(secretary)
    assert client.get(f"/workspace/brands/{community_brand.code}/").content.decode().count("独一无二的承诺") == 1


def test_directory_orders_demonstration_named_cultivating(client, tree):
    BrandFactory(organization=tree["community"], name="甲", status=S.CULTIVATING)
    BrandFactory(organization=tree["community"], name="乙", status=S.NAMED)
    BrandFactory(organization=tree["community"], name="丙", status=S.DEMONSTRATION)
    assert [b.name for b in client.get("/brands/").context["page"]] == ["丙", "乙", "甲"]


def test_admin_lists_brands_without_delete(client, community_brand):
    from tests.factories import UserFactory as Users

    admin_user = Users(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin_user)
    assert client.get("/admin/brands/brand/").status_code == 200
    assert client.get(f"/admin/brands/brand/{community_brand.pk}/change/").status_code == 200
    assert client.get(f"/admin/brands/brand/{community_brand.pk}/delete/").status_code == 403


def test_admin_copies_the_brands_organization_onto_child_rows(client, community_brand):
    admin_user = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin_user)
    response = client.post(
        "/admin/brands/plan/add/",
        {
            "brand": community_brand.pk,
            "start_year": 2025,
            "end_year": 2026,
            "goals": "目标",
            "milestones-TOTAL_FORMS": 1,
            "milestones-INITIAL_FORMS": 0,
            "milestones-MIN_NUM_FORMS": 0,
            "milestones-MAX_NUM_FORMS": 1000,
            "milestones-0-title": "节点",
            "milestones-0-due_date": "2025-06-30",
            "milestones-0-weight": 1,
        },
    )
    assert response.status_code == 302
    plan = Plan.objects.get()
    milestone = Milestone.objects.get()
    assert (plan.organization, milestone.organization) == (community_brand.organization, community_brand.organization)
    change = client.get(f"/admin/brands/plan/{plan.pk}/change/")
    assert "brand" in change.context["adminform"].readonly_fields  # the owner is fixed once saved
    change = client.get(f"/admin/brands/brand/{community_brand.pk}/change/")
    assert "organization" in change.context["adminform"].readonly_fields
