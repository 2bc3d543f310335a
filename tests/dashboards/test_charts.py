"""The dashboard's charts are drawn once per set of figures: the same figures come from the cache, new ones
(a refresh after new ratings, another language) are drawn anew."""

from unittest import mock

import pytest
from django.utils import timezone
from pygal.graph.public import PublicApi

from tests.dashboards.conftest import add_ratings, rebuild
from tests.dashboards.test_dashboard import this_month
from tests.factories import make_brand

pytestmark = pytest.mark.django_db


def svgs(html: str) -> list[str]:
    return [part.split("</svg>", 1)[0] for part in html.split("<svg")[1:]]


def test_the_same_figures_are_drawn_once_and_new_figures_at_the_next_read(client, tree, city_reviewer):
    brand = make_brand(tree["grid"], code="CH01")
    add_ratings(brand, [5, 4], timezone.localdate())
    rebuild()
    client.force_login(city_reviewer)
    render = mock.patch.object(PublicApi, "render", autospec=True, side_effect=PublicApi.render)
    with render as drawn:
        first = client.get("/dashboard/", {"period": this_month()}).content.decode()
        assert drawn.call_count == 5
        again = client.get("/dashboard/", {"period": this_month()}).content.decode()
        assert drawn.call_count == 5  # nothing drawn again
        assert svgs(again) == svgs(first)
        add_ratings(brand, [1, 1, 1], timezone.localdate())
        rebuild()
        after = client.get("/dashboard/", {"period": this_month()}).content.decode()
        assert drawn.call_count > 5
        assert svgs(after) != svgs(first)
        count = drawn.call_count
        client.get("/dashboard/", {"period": this_month()}, HTTP_ACCEPT_LANGUAGE="en")
        assert drawn.call_count == count + 5
