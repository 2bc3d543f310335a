"""Tenancy of the lookups by id: a child row is found only within the user's reach on its own organization.

A row of another organization is a 404, exactly like a row that does not exist, even when
the caller hands the selector that row's brand.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from brands import selectors
from brands.models import Brand, Case, Milestone
from organizations import rules
from tests.brands.conftest import make_programme, set_status
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = Brand.Status


@pytest.fixture
def own(community_brand, secretary):
    return make_programme(community_brand, secretary)


@pytest.fixture
def foreign(enterprise_brand, other_secretary):
    return make_programme(enterprise_brand, other_secretary)


LOOKUPS = {
    "commitment": lambda user, p, brand: selectors.commitment_get_for(user=user, brand=brand, pk=p["commitment"].pk),
    "commitment (any brand)": lambda user, p, brand: selectors.commitment_get_for(user=user, pk=p["commitment"].pk),
    "milestone": lambda user, p, brand: selectors.milestone_get_for(user=user, brand=brand, pk=p["milestone"].pk),
    "case": lambda user, p, brand: selectors.case_get_for(user=user, brand=brand, pk=p["case"].pk),
}


@pytest.mark.parametrize("kind", LOOKUPS)
def test_owner_finds_own_rows(secretary, own, kind):
    assert LOOKUPS[kind](secretary, own, own["brand"]).pk == own[kind.split()[0]].pk


@pytest.mark.parametrize("kind", LOOKUPS)
def test_row_of_another_organization_is_404_even_with_its_brand(secretary, own, foreign, kind):
    for brand in (own["brand"], foreign["brand"]):
        with pytest.raises(Http404):
            LOOKUPS[kind](secretary, foreign, brand)


@pytest.mark.parametrize("kind", LOOKUPS)
@pytest.mark.parametrize("who", ["district_reviewer", "city_reviewer", "outsider"])
def test_manage_lookups_are_404_without_manage(request, own, kind, who):
    with pytest.raises(Http404):
        LOOKUPS[kind](request.getfixturevalue(who), own, own["brand"])


@pytest.mark.parametrize("kind", LOOKUPS)
def test_anonymous_gets_404(own, kind):
    with pytest.raises(Http404):
        LOOKUPS[kind](AnonymousUser(), own, own["brand"])


@pytest.mark.parametrize("kind", ["commitment", "milestone", "case"])
def test_the_rows_own_organization_decides(secretary, own, enterprise_brand, kind):
    """Scoping reads the row's organization column, not its brand's: a row filed elsewhere stays out of reach."""
    model = type(own[kind])
    model.objects.filter(pk=own[kind].pk).update(organization=enterprise_brand.organization)
    with pytest.raises(Http404):
        LOOKUPS[kind](secretary, own, own["brand"])


@pytest.mark.parametrize("pk", ["abc", None, 10**9])
def test_bad_ids_are_404(secretary, own, pk):
    with pytest.raises(Http404):
        selectors.commitment_get_for(user=secretary, pk=pk)
    with pytest.raises(Http404):
        selectors.milestone_get_for(user=secretary, brand=own["brand"], pk=pk)
    with pytest.raises(Http404):
        selectors.case_get_for(user=secretary, brand=own["brand"], pk=pk)


def test_review_queue_of_cases_is_scoped_by_the_cases_organization(district_reviewer, own, foreign):
    Case.objects.update(status=Case.Status.SUBMITTED)
    assert list(selectors.cases_awaiting(user=district_reviewer)) == [own["case"]]
    assert selectors.case_reviewable_get(user=district_reviewer, pk=own["case"].pk) == own["case"]
    with pytest.raises(Http404):
        selectors.case_reviewable_get(user=district_reviewer, pk=foreign["case"].pk)


def test_overdue_milestones_are_scoped_by_the_milestones_organization(secretary, other_secretary, own, foreign):
    assert list(selectors.overdue_milestones_for(user=secretary, action=rules.Action.MANAGE)) == [own["milestone"]]
    assert list(selectors.overdue_milestones_for(user=other_secretary, action=rules.Action.MANAGE)) == [
        foreign["milestone"]
    ]
    Milestone.objects.filter(pk=own["milestone"].pk).update(organization=foreign["brand"].organization)
    assert list(selectors.overdue_milestones_for(user=secretary, action=rules.Action.MANAGE)) == []


def test_visible_milestone_public_for_anyone_private_within_view_scope(secretary, other_secretary, own, foreign):
    set_status(foreign["brand"], S.NAMED)
    anonymous = AnonymousUser()
    assert selectors.milestone_visible_get(user=anonymous, brand=foreign["brand"], pk=foreign["milestone"].pk).pk == (
        foreign["milestone"].pk
    )
    assert selectors.milestone_visible_get(user=secretary, brand=own["brand"], pk=own["milestone"].pk).pk == (
        own["milestone"].pk
    )
    root = UserFactory(username="root", is_superuser=True)
    assert selectors.milestone_visible_get(user=root, brand=own["brand"], pk=own["milestone"].pk).pk == (
        own["milestone"].pk
    )
    for user, brand, milestone in (
        (anonymous, own["brand"], own["milestone"]),  # a draft brand's milestone
        (other_secretary, own["brand"], own["milestone"]),
        (secretary, own["brand"], foreign["milestone"]),  # public, but not of this brand
    ):
        with pytest.raises(Http404):
            selectors.milestone_visible_get(user=user, brand=brand, pk=milestone.pk)


def test_child_lists_of_a_brand_follow_the_same_visibility(secretary, other_secretary, own, foreign):
    from brands.models import Commitment, Plan

    brand = own["brand"]  # a draft: private
    anonymous = AnonymousUser()

    def seen(user):
        return (
            list(selectors.commitments_visible(user=user, brand=brand)),
            list(selectors.milestones_visible(user=user, brand=brand)),
        )

    assert seen(secretary) == ([own["commitment"]], [own["milestone"]])
    assert selectors.plan_visible_get(user=secretary, brand=brand) == own["plan"]
    for user in (anonymous, other_secretary):
        assert seen(user) == ([], [])
        with pytest.raises(Http404):
            selectors.plan_visible_get(user=user, brand=brand)
    set_status(brand, S.NAMED)
    assert seen(anonymous) == ([own["commitment"]], [own["milestone"]])
    assert selectors.plan_visible_get(user=anonymous, brand=brand) == own["plan"]
    # on a private brand, rows are read by their own organization
    set_status(brand, S.DRAFT)
    Commitment.objects.update(organization=foreign["brand"].organization)
    Milestone.objects.update(organization=foreign["brand"].organization)
    Plan.objects.update(organization=foreign["brand"].organization)
    assert seen(secretary) == ([], [])
    with pytest.raises(Http404):
        selectors.plan_visible_get(user=secretary, brand=brand)
