"""What every API endpoint shares: bad request bodies are 400s, never 500s."""

import pytest

from brands.models import Brand
from tests.factories import make_brand

DEEP = "[" * 5000 + "]" * 5000  # deeper than Python's JSON decoder recurses


@pytest.mark.django_db
def test_json_nested_too_deeply_is_a_400_parse_error(api_client, tree, secretary):
    brand = make_brand(tree["community"], "deep01", status=Brand.Status.NAMED)
    anonymous = ["/api/v1/auth/token/", f"/api/v1/brands/{brand.code}/evaluations/"]
    for url in anonymous:
        response = api_client.post(url, DEEP, content_type="application/json")
        assert (url, response.status_code, response.json()) == (
            url,
            400,
            {"detail": "JSON parse error - nested too deeply"},
        )
    api_client.force_authenticate(secretary)
    response = api_client.post("/api/v1/brands/", DEEP, content_type="application/json")
    assert (response.status_code, response.json()) == (400, {"detail": "JSON parse error - nested too deeply"})
