"""Pages composed from more than one app show each app's part, in a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brands.models import Brand
from tests.factories import BrandFactory


@pytest.fixture
def public_brand(tree):
    return BrandFactory(organization=tree["community"], code="HYJY22", name="红色家园", status=Brand.Status.NAMED)


def test_public_brand_page_invites_a_rating(client, public_brand):
    body = client.get("/b/HYJY22/").content.decode()
    assert 'href="/b/HYJY22/rate/"' in body
    assert 'href="/b/HYJY22/poster/"' in body


def test_workspace_home_offers_posters_and_rectification_counts(client, secretary, public_brand):
    client.force_login(secretary)
    body = client.get("/workspace/").content.decode()
    assert 'href="/b/HYJY22/poster/"' in body
    assert 'href="/b/HYJY22/qr.png?download=1"' in body


def test_workspace_home_query_count_is_the_same_for_1_and_20_brands(client, tree, secretary, public_brand):
    client.force_login(secretary)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/workspace/").status_code == 200
        return len(queries)

    with_one = count()
    for _ in range(19):
        BrandFactory(organization=tree["community"], status=Brand.Status.CULTIVATING)
    assert count() == with_one


def test_dashboard_shows_the_rectification_panel(client, district_reviewer):
    client.force_login(district_reviewer)
    body = client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/rectifications/"' in body
    assert 'href="/dashboard/moderation/flagged/"' in body
