"""Token login and the organizations endpoint."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organizations.models import Organization
from tests.factories import make_organization

URL = "/api/v1/organizations/"


def listed(client, user):
    client.force_authenticate(user)
    response = client.get(URL)
    assert response.status_code == 200
    return [(row["name"], row["parent"]) for row in response.json()["results"]]


def test_token_login(api_client, secretary):
    response = api_client.post("/api/v1/auth/token/", {"username": "secretary", "password": "pass12345"})
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get(URL).status_code == 200


def test_token_login_with_wrong_password_is_400(api_client, secretary):
    response = api_client.post("/api/v1/auth/token/", {"username": "secretary", "password": "nope"})
    assert response.status_code == 400
    assert "token" not in response.json()


def test_anonymous_is_refused(api_client, tree):
    assert api_client.get(URL).status_code == 401


def test_each_user_lists_exactly_its_reach(api_client, tree, secretary, other_secretary, district_reviewer, outsider):
    community, district = tree["community"], tree["district"]
    assert listed(api_client, secretary) == [("华阳路社区党委", district.pk), ("华阳路第一网格党支部", community.pk)]
    assert listed(api_client, other_secretary) == [("海润自来水集团党委", tree["city"].pk)]
    assert listed(api_client, district_reviewer) == [
        ("中共青岛市市北区委员会", tree["city"].pk),
        ("华阳路社区党委", district.pk),
        ("华阳路第一网格党支部", community.pk),
    ]
    assert listed(api_client, outsider) == []


@pytest.mark.parametrize("extra", [0, 19])
def test_query_count_does_not_grow_with_rows(api_client, tree, city_reviewer, extra):
    for i in range(extra):
        make_organization(f"网格党支部{i:02d}", tree["grid"], level=Organization.Level.BRANCH)
    api_client.force_authenticate(city_reviewer)
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(URL)
    assert response.json()["count"] == 5 + extra
    # memberships, count, page of rows
    assert len(queries) == 3
