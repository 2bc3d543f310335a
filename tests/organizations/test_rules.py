"""The permission module: who reaches which organizations."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from organizations import rules
from organizations.rules import Action
from tests.factories import UserFactory, grant


def names(queryset):
    return sorted(queryset.values_list("name", flat=True))


SUBTREE_OF_COMMUNITY = sorted(["华阳路第一网格党支部", "华阳路社区党委"])
SUBTREE_OF_DISTRICT = sorted(["中共青岛市市北区委员会", "华阳路第一网格党支部", "华阳路社区党委"])
EVERYTHING = sorted(
    ["中共青岛市委员会", "中共青岛市市北区委员会", "华阳路第一网格党支部", "华阳路社区党委", "海润自来水集团党委"]
)


def test_secretary_sees_and_manages_only_its_own_subtree(secretary, tree):
    assert names(rules.organizations_for(secretary, Action.VIEW)) == SUBTREE_OF_COMMUNITY
    assert names(rules.organizations_for(secretary, Action.MANAGE)) == SUBTREE_OF_COMMUNITY
    assert names(rules.organizations_for(secretary, Action.REVIEW)) == []
    assert rules.can(secretary, Action.MANAGE, tree["grid"]) is True
    assert rules.can(secretary, Action.MANAGE, tree["enterprise"]) is False
    assert rules.can(secretary, Action.VIEW, tree["district"]) is False


def test_other_secretary_reaches_only_the_enterprise(other_secretary, tree):
    assert names(rules.organizations_for(other_secretary, Action.MANAGE)) == ["海润自来水集团党委"]
    assert rules.can(other_secretary, Action.MANAGE, tree["community"]) is False


def test_district_reviewer_reviews_the_district_subtree_only(district_reviewer, tree):
    assert names(rules.organizations_for(district_reviewer, Action.REVIEW)) == SUBTREE_OF_DISTRICT
    assert names(rules.organizations_for(district_reviewer, Action.VIEW)) == SUBTREE_OF_DISTRICT
    assert names(rules.organizations_for(district_reviewer, Action.MANAGE)) == []
    assert rules.can(district_reviewer, Action.REVIEW, tree["enterprise"]) is False
    assert rules.can(district_reviewer, Action.REVIEW, tree["grid"]) is True


def test_city_reviewer_sees_everything(city_reviewer):
    assert names(rules.organizations_for(city_reviewer, Action.REVIEW)) == EVERYTHING


def test_outsider_and_anonymous_see_nothing(outsider, tree):
    for user in (outsider, AnonymousUser()):
        for action in Action:
            assert names(rules.organizations_for(user, action)) == []
            assert rules.can(user, action, tree["city"]) is False


def test_superuser_sees_everything(tree):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert names(rules.organizations_for(admin, Action.ADMINISTER)) == EVERYTHING


def test_overlapping_roles_do_not_duplicate_rows(secretary, tree):
    grant(secretary, tree["grid"], "secretary")
    rules.forget(secretary)
    assert names(rules.organizations_for(secretary, Action.MANAGE)) == SUBTREE_OF_COMMUNITY


def test_inactive_user_reaches_nothing(secretary, tree):
    secretary.is_active = False
    assert names(rules.organizations_for(secretary, Action.VIEW)) == []


def test_organization_get_answers_404_outside_reach(secretary, tree):
    assert rules.organization_get(secretary, Action.MANAGE, tree["grid"].pk) == tree["grid"]
    with pytest.raises(Http404):
        rules.organization_get(secretary, Action.MANAGE, tree["enterprise"].pk)
    with pytest.raises(Http404):
        rules.organization_get(secretary, Action.MANAGE, 999999)
    with pytest.raises(Http404):
        rules.organization_get(secretary, Action.MANAGE, "not-a-number")
