"""Review decisions tell the other side: a submission its reviewers, every decision the brand's organization."""

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings

from brands import services
from brands.models import BrandTransition
from organizations.models import Membership, Notice
from tests.factories import UserFactory, grant

pytestmark = pytest.mark.django_db(transaction=True)

SITE = "https://dj.example.cn"


@pytest.fixture(autouse=True)
def _site():
    with override_settings(SITE_URL=SITE):
        yield


@pytest.fixture
def people(tree, secretary, other_secretary, district_reviewer, city_reviewer):
    """Besides the standing users: staff of the community, a reviewer of the other tenant, a reviewer who
    also manages the community (the review refuses them), one without an address, one inactive."""
    staff = UserFactory(username="staff", display_name="李明")
    grant(staff, tree["community"], Membership.Role.STAFF)
    grant(UserFactory(username="enterprise_reviewer"), tree["enterprise"], Membership.Role.REVIEWER)
    both = UserFactory(username="reviewer_and_secretary")
    grant(both, tree["district"], Membership.Role.REVIEWER)
    grant(both, tree["district"], Membership.Role.SECRETARY)
    grant(UserFactory(username="no_address", email=""), tree["district"], Membership.Role.REVIEWER)
    grant(UserFactory(username="gone", is_active=False), tree["community"], Membership.Role.SECRETARY)
    secretary.display_name = "王芳"
    secretary.save()
    return {"secretary": secretary, "staff": staff, "district_reviewer": district_reviewer}


def sent() -> list[tuple[str, str]]:
    """(address, subject) of each mail, sorted; then forgotten."""
    mails = sorted((m.to[0], m.subject) for m in mail.outbox)
    mail.outbox.clear()
    return mails


def test_each_decision_notifies_exactly_the_right_people(community_brand, people):
    secretary, reviewer = people["secretary"], people["district_reviewer"]
    mail.outbox.clear()
    review_link = f"{SITE}/dashboard/brands/RED234/"
    workspace_link = f"{SITE}/workspace/brands/RED234/"

    services.brand_submit(user=secretary, brand=community_brand)
    assert sent() == [
        ("district_reviewer@example.org", "【党建品牌平台】待审核：红色家园"),
        ("reviewer@example.org", "【党建品牌平台】待审核：红色家园"),  # the city's reviewer
    ]
    services.brand_review(user=reviewer, brand=community_brand, decision="return", comment="请补充服务承诺")
    assert sent() == [
        ("secretary@example.org", "【党建品牌平台】红色家园：已退回"),
        ("staff@example.org", "【党建品牌平台】红色家园：已退回"),
    ]
    services.brand_submit(user=secretary, brand=community_brand)  # a second submission: notices again
    assert [address for address, _ in sent()] == ["district_reviewer@example.org", "reviewer@example.org"]
    services.brand_review(user=reviewer, brand=community_brand, decision="approve")
    assert sent() == [
        ("secretary@example.org", "【党建品牌平台】红色家园：培育"),
        ("staff@example.org", "【党建品牌平台】红色家园：培育"),
    ]
    services.brand_review(user=reviewer, brand=community_brand, decision="name", comment="群众评价好")
    assert sent() == [
        ("secretary@example.org", "【党建品牌平台】红色家园：命名"),
        ("staff@example.org", "【党建品牌平台】红色家园：命名"),
    ]
    transitions = list(BrandTransition.objects.order_by("id").values_list("pk", "decision"))
    rows = Notice.objects.order_by("id").values_list("recipient__username", "kind", "key", "link", "status")
    expected = []
    for pk, decision in transitions:  # recipients in the order of their accounts, as notices are written
        if decision == "submit":
            names, link = ["district_reviewer", "reviewer"], review_link
        else:
            names, link = ["secretary", "staff"], workspace_link
        expected += [(name, f"brand_{decision}", f"brand-transition:{pk}", link, "sent") for name in names]
    assert list(rows) == expected


def test_the_mails_speak_chinese_with_the_name_the_comment_and_an_absolute_link(community_brand, people):
    secretary, reviewer = people["secretary"], people["district_reviewer"]
    reviewer.display_name = "张审核"
    reviewer.save()
    services.brand_submit(user=secretary, brand=community_brand)
    mail.outbox.clear()
    services.brand_review(user=reviewer, brand=community_brand, decision="return", comment="请补充服务承诺")
    to_secretary = next(m for m in mail.outbox if m.to == ["secretary@example.org"])
    assert to_secretary.body == (
        "王芳，您好：\n\n党建品牌“红色家园”已被退回，请按意见修改后重新提交。\n\n"
        f"张审核的意见：请补充服务承诺\n\n{SITE}/workspace/brands/RED234/\n"
    )
    mail.outbox.clear()
    services.brand_submit(user=secretary, brand=community_brand)
    to_reviewer = next(m for m in mail.outbox if m.to == ["district_reviewer@example.org"])
    assert to_reviewer.body == (
        "张审核，您好：\n\n华阳路社区党委提交了党建品牌“红色家园”，请审核通过或退回修改。\n\n"
        f"{SITE}/dashboard/brands/RED234/\n"
    )


def test_a_refused_or_rolled_back_decision_leaves_no_notice(community_brand, people):
    secretary = people["secretary"]
    with pytest.raises(RuntimeError), transaction.atomic():
        services.brand_submit(user=secretary, brand=community_brand)
        assert Notice.objects.count() == 2
        raise RuntimeError("the request failed after the decision")
    assert (Notice.objects.count(), mail.outbox) == (0, [])
    with pytest.raises(services.ApplicationError):
        services.brand_review(user=people["district_reviewer"], brand=community_brand, decision="approve")
    assert Notice.objects.count() == 0
