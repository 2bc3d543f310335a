"""The brand workflow through the service layer: the whole transition table, who may decide, audit rows."""

import datetime
import os

import pytest
from django.http import Http404
from django.utils import timezone, translation

from brands import images, selectors, services
from brands.models import Brand, BrandTransition, Case, Commitment
from config.errors import ApplicationError, http_status
from organizations.models import Membership
from tests.brands.conftest import image_bytes, set_status, upload
from tests.factories import BrandFactory, grant

pytestmark = pytest.mark.django_db
S = Brand.Status

# (decision, from status) → to status; every pair not listed must be refused.
LEGAL = {
    ("submit", S.DRAFT): S.SUBMITTED,
    ("submit", S.RETURNED): S.SUBMITTED,
    ("return", S.SUBMITTED): S.RETURNED,
    ("approve", S.SUBMITTED): S.CULTIVATING,
    ("name", S.CULTIVATING): S.NAMED,
    ("demonstrate", S.NAMED): S.DEMONSTRATION,
    ("revoke", S.CULTIVATING): S.REVOKED,
    ("revoke", S.NAMED): S.REVOKED,
    ("revoke", S.DEMONSTRATION): S.REVOKED,
}
DECISIONS = ["submit", "return", "approve", "name", "demonstrate", "revoke"]
TABLE = [(d, s) for d in DECISIONS for s in S.values]


def decide(decision, brand, *, secretary, reviewer, comment="意见"):
    if decision == "submit":
        return services.brand_submit(user=secretary, brand=brand, comment=comment)
    return services.brand_review(user=reviewer, brand=brand, decision=decision, comment=comment)


@pytest.mark.parametrize(("decision", "from_status"), TABLE)
def test_transition_table(community_brand, secretary, district_reviewer, decision, from_status):
    brand = set_status(community_brand, from_status)
    if (decision, from_status) in LEGAL:
        result = decide(decision, brand, secretary=secretary, reviewer=district_reviewer)
        to_status = LEGAL[(decision, from_status)]
        assert result.status == to_status
        assert Brand.objects.get(pk=brand.pk).status == to_status
        row = BrandTransition.objects.get()
        actor = secretary if decision == "submit" else district_reviewer
        assert (row.actor, row.decision, row.from_status, row.to_status, row.comment) == (
            actor,
            decision,
            from_status,
            to_status,
            "意见",
        )
        assert abs((timezone.now() - row.created_at).total_seconds()) < 60
    else:
        with translation.override("en"):
            with pytest.raises(ApplicationError) as caught:
                decide(decision, brand, secretary=secretary, reviewer=district_reviewer)
            expected = (
                f"“{services.decision_label(decision)}” is not possible for a brand that is “{S(from_status).label}”."
            )
        assert caught.value.code == "illegal_transition"
        assert http_status(caught.value) == 400
        assert caught.value.message == expected
        assert Brand.objects.get(pk=brand.pk).status == from_status
        assert BrandTransition.objects.count() == 0


def test_illegal_message_reads_well_in_chinese(community_brand, district_reviewer):
    with pytest.raises(ApplicationError) as caught:
        services.brand_review(user=district_reviewer, brand=community_brand, decision="name")
    assert caught.value.message == "处于“草稿”状态的品牌不能执行“命名品牌”。"


@pytest.mark.parametrize("decision", ["return", "revoke"])
def test_return_and_revoke_need_a_comment(community_brand, district_reviewer, decision):
    brand = set_status(community_brand, S.SUBMITTED if decision == "return" else S.NAMED)
    with translation.override("en"), pytest.raises(ApplicationError) as caught:
        services.brand_review(user=district_reviewer, brand=brand, decision=decision, comment="  ")
    assert caught.value.field == "comment"
    assert BrandTransition.objects.count() == 0


def test_unknown_decision_is_refused(community_brand, district_reviewer):
    with translation.override("en"), pytest.raises(ApplicationError) as caught:
        services.brand_review(user=district_reviewer, brand=community_brand, decision="promote")
    assert (caught.value.field, caught.value.message) == (
        "decision",
        "Unknown decision “promote”; use one of: return, approve, name, demonstrate, revoke.",
    )


def test_submit_needs_a_concept(community_brand, secretary):
    Brand.objects.filter(pk=community_brand.pk).update(concept="")
    with pytest.raises(ApplicationError) as caught:
        services.brand_submit(user=secretary, brand=community_brand)
    assert caught.value.field == "concept"


def test_reviewer_outside_the_subtree_may_not_decide(enterprise_brand, district_reviewer):
    brand = set_status(enterprise_brand, S.SUBMITTED)
    with pytest.raises(ApplicationError) as caught:
        services.brand_review(user=district_reviewer, brand=brand, decision="approve")
    assert http_status(caught.value) == 403
    assert Brand.objects.get(pk=brand.pk).status == S.SUBMITTED


def test_city_reviewer_decides_anywhere_below(enterprise_brand, city_reviewer):
    brand = set_status(enterprise_brand, S.SUBMITTED)
    assert services.brand_review(user=city_reviewer, brand=brand, decision="approve").status == S.CULTIVATING


def test_no_self_approval_even_for_a_reviewer(tree, community_brand, secretary):
    grant(secretary, tree["district"], Membership.Role.REVIEWER)
    brand = set_status(community_brand, S.SUBMITTED)
    with translation.override("en"), pytest.raises(ApplicationError) as caught:
        services.brand_review(user=secretary, brand=brand, decision="approve")
    assert (http_status(caught.value), caught.value.message) == (
        403,
        "You manage this organization, so you cannot decide on its brand; another reviewer must.",
    )


def test_only_the_owner_submits(community_brand, other_secretary, district_reviewer):
    for user in (other_secretary, district_reviewer):
        with pytest.raises(Http404):
            services.brand_submit(user=user, brand=community_brand)


def test_full_journey_keeps_every_transition(community_brand, secretary, district_reviewer):
    brand = services.brand_submit(user=secretary, brand=community_brand)
    brand = services.brand_review(user=district_reviewer, brand=brand, decision="return", comment="补充载体")
    brand = services.brand_submit(user=secretary, brand=brand)
    for decision, comment in (("approve", ""), ("name", "群众认可"), ("demonstrate", "经验可复制")):
        brand = services.brand_review(user=district_reviewer, brand=brand, decision=decision, comment=comment)
    brand = services.brand_review(user=district_reviewer, brand=brand, decision="revoke", comment="整改不到位")
    rows = list(BrandTransition.objects.order_by("id").values_list("from_status", "to_status", "comment"))
    assert rows == [
        ("draft", "submitted", ""),
        ("submitted", "returned", "补充载体"),
        ("returned", "submitted", ""),
        ("submitted", "cultivating", ""),
        ("cultivating", "named", "群众认可"),
        ("named", "demonstration", "经验可复制"),
        ("demonstration", "revoked", "整改不到位"),
    ]


# --- Filing and codes -------------------------------------------------------


def test_create_gives_an_unambiguous_unique_code(tree, secretary):
    brand = services.brand_create(
        user=secretary, organization=tree["grid"], data={"name": "网格连心", "service_targets": ["masses", "members"]}
    )
    assert brand.status == S.DRAFT
    assert len(brand.code) == 6
    assert set(brand.code) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    assert brand.service_targets == ["members", "masses"]


def test_code_collision_is_retried(tree, secretary, community_brand, monkeypatch):
    codes = iter([community_brand.code, "ZZZ999"])
    monkeypatch.setattr(services, "brand_code_new", lambda: next(codes))
    brand = services.brand_create(user=secretary, organization=tree["community"], data={"name": "第二个"})
    assert brand.code == "ZZZ999"
    assert Brand.objects.count() == 2


def test_cannot_file_for_an_organization_not_managed(tree, secretary):
    with pytest.raises(ApplicationError) as caught:
        services.brand_create(user=secretary, organization=tree["enterprise"], data={"name": "x"})
    assert caught.value.field == "organization"
    assert Brand.objects.count() == 0


def test_edit_only_while_draft_or_returned(community_brand, secretary):
    services.brand_update(user=secretary, brand=community_brand, data={"slogan": "新口号"})
    assert Brand.objects.get(pk=community_brand.pk).slogan == "新口号"
    set_status(community_brand, S.SUBMITTED)
    with pytest.raises(ApplicationError):
        services.brand_update(user=secretary, brand=community_brand, data={"slogan": "再改"})
    assert Brand.objects.get(pk=community_brand.pk).slogan == "新口号"


def test_a_replaced_logo_and_its_small_size_are_deleted_once_the_change_commits(
    community_brand, secretary, django_capture_on_commit_callbacks
):
    def logo(color):
        return images.normalize(upload("logo.jpg", image_bytes(color=color)), kind="logo")

    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(user=secretary, brand=community_brand, data={}, logo=logo((200, 30, 30)))
    first = Brand.objects.get(pk=community_brand.pk)
    old = [first.logo.path, first.logo_small.path]
    assert all(os.path.exists(path) for path in old)
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(user=secretary, brand=first, data={}, logo=logo((30, 30, 200)))
    second = Brand.objects.get(pk=community_brand.pk)
    assert not any(os.path.exists(path) for path in old)
    assert os.path.exists(second.logo.path) and os.path.exists(second.logo_small.path)


# --- Commitments, plan, progress --------------------------------------------


def test_commitments_keep_their_order_and_move(community_brand, secretary):
    for text in ("一", "二", "三"):
        services.commitment_add(user=secretary, brand=community_brand, text=text)
    third = Commitment.objects.get(text="三")
    services.commitment_move(user=secretary, commitment=third, step=-1)
    assert list(community_brand.commitments.values_list("text", "position")) == [("一", 1), ("三", 2), ("二", 3)]
    services.commitment_move(user=secretary, commitment=Commitment.objects.get(text="一"), step=-1)
    assert list(community_brand.commitments.values_list("text", flat=True)) == ["一", "三", "二"]


def test_weighted_progress_and_overdue(community_brand, secretary):
    services.plan_save(user=secretary, brand=community_brand, start_year=2025, end_year=2027, goals="三年目标")
    today = timezone.localdate()
    a = services.milestone_add(user=secretary, brand=community_brand, title="a", due_date=today, weight=3)
    services.milestone_add(user=secretary, brand=community_brand, title="b", due_date=today, weight=1)
    late = services.milestone_add(
        user=secretary, brand=community_brand, title="c", due_date=today - datetime.timedelta(days=1), weight=4
    )
    services.milestone_set_done(user=secretary, milestone=a, done=True)
    listed = selectors.brand_list_for(user=secretary, action=selectors.rules.Action.MANAGE).get()
    assert (listed.weight_done, listed.weight_total, listed.progress_percent) == (3, 8, 38)
    page = selectors.brand_workspace_get(user=secretary, code=community_brand.code)
    assert page.progress_percent == 38
    assert page.overdue_list == [late]


def test_plan_years_must_be_ordered(community_brand, secretary):
    with pytest.raises(ApplicationError) as caught:
        services.plan_save(user=secretary, brand=community_brand, start_year=2027, end_year=2025, goals="x")
    assert caught.value.field == "end_year"


def test_milestone_needs_a_plan(community_brand, secretary):
    with pytest.raises(ApplicationError):
        services.milestone_add(user=secretary, brand=community_brand, title="a", due_date=timezone.localdate())


def test_report_allows_at_most_nine_photos(community_brand, secretary):
    services.plan_save(user=secretary, brand=community_brand, start_year=2025, end_year=2026, goals="g")
    milestone = services.milestone_add(user=secretary, brand=community_brand, title="a", due_date=timezone.localdate())
    with pytest.raises(ApplicationError):
        services.progress_report_add(user=secretary, milestone=milestone, text="t", photos=[object()] * 10)


# --- Cases ------------------------------------------------------------------


def test_case_is_written_by_the_owner_and_published_by_a_reviewer(
    community_brand, secretary, district_reviewer, other_secretary
):
    brand = set_status(community_brand, S.NAMED)
    case = services.case_save(
        user=secretary, brand=brand, data={"title": "经验", "summary": "摘要", "body": "正文"}, submit=True
    )
    assert case.status == Case.Status.SUBMITTED
    assert list(selectors.case_public_list()) == []
    with pytest.raises(ApplicationError):
        services.case_publish(user=secretary, case=case)
    published = services.case_publish(user=district_reviewer, case=case)
    assert (published.status, published.published_by) == (Case.Status.PUBLISHED, district_reviewer)
    assert list(selectors.case_public_list(domain="community")) == [case]
    assert list(selectors.case_public_list(domain="soe")) == []
    with pytest.raises(ApplicationError):
        services.case_save(user=secretary, brand=brand, case=published, data={"title": "改"})


def test_case_of_a_brand_that_is_not_public_cannot_be_published(community_brand, secretary, district_reviewer):
    case = services.case_save(
        user=secretary, brand=community_brand, data={"title": "t", "summary": "s", "body": "b"}, submit=True
    )
    with pytest.raises(ApplicationError):
        services.case_publish(user=district_reviewer, case=case)


def test_public_selector_hides_private_statuses(tree):
    for status in S.values:
        BrandFactory(organization=tree["community"], status=status, code=f"C{status[:5].upper()}")
    assert sorted(selectors.brand_public_list().values_list("status", flat=True)) == sorted(Brand.PUBLIC_STATUSES)


# --- Tenancy: every child row carries its brand's organization ----------------


def test_every_child_row_created_by_the_services_carries_its_brands_organization(
    community_brand, enterprise_brand, secretary, other_secretary, city_reviewer
):
    from django.core.files.base import ContentFile

    from brands import images
    from tests.brands.conftest import child_organization_counts, image_bytes

    for brand, owner in ((community_brand, secretary), (enterprise_brand, other_secretary)):
        services.commitment_add(user=owner, brand=brand, text="当天答复")
        services.plan_save(user=owner, brand=brand, start_year=2025, end_year=2026, goals="g")
        milestone = services.milestone_add(user=owner, brand=brand, title="a", due_date=timezone.localdate())
        photo = images.normalize(ContentFile(image_bytes(), name="p.jpg"), kind="photo")
        services.progress_report_add(user=owner, milestone=milestone, text="进展", photos=[photo])
        brand = services.brand_submit(user=owner, brand=brand)
        brand = services.brand_review(user=city_reviewer, brand=brand, decision="approve", comment="好")
        case = services.case_save(
            user=owner, brand=brand, data={"title": "t", "summary": "s", "body": "b"}, submit=True
        )
        services.case_publish(user=city_reviewer, case=case)
        services.plan_save(user=owner, brand=brand, start_year=2025, end_year=2027, goals="g2")  # the update path
    assert child_organization_counts() == {
        "BrandTransition": (4, 0),
        "Commitment": (2, 0),
        "Plan": (2, 0),
        "Case": (2, 0),
        "Milestone": (2, 0),
        "ProgressReport": (2, 0),
        "ReportPhoto": (2, 0),
    }
    assert set(Commitment.objects.values_list("organization__name", flat=True)) == {
        community_brand.organization.name,
        enterprise_brand.organization.name,
    }
