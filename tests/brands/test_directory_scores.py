"""The public directory's cards show each brand's all-time score and number of ratings, read for the
whole page at once."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brands.models import Brand
from scores import periods, selectors
from scores.services import scores_recompute_full
from tests.factories import make_brand, make_evaluation

pytestmark = pytest.mark.django_db

S = Brand.Status


def rate(brand: Brand, grades: list[int]) -> None:
    for grade in grades:
        make_evaluation(brand, grade)


def card(body: str, name: str) -> str:
    """The card of the brand called `name`."""
    match = re.search(
        rf'<article class="card h-100 brand-card">(?:(?!</article>).)*>{name}</a>.*?</article>', body, re.S
    )
    assert match, name
    return match.group(0)


def score_line(body: str, name: str) -> str:
    line = re.search(r'<p class="mb-0 mt-1 small card-score" data-n="(\d+)">(.*?)</p>', card(body, name), re.S)
    return f"{line.group(1)}|{line.group(2)}"


def test_cards_show_score_and_number_of_ratings(client, tree):
    scored = make_brand(tree["community"], code="CARD01", name="红色家园", status=S.NAMED)
    few = make_brand(tree["enterprise"], code="CARD02", name="海润先锋")
    make_brand(tree["grid"], code="CARD03", name="网格连心", status=S.DEMONSTRATION)
    other = make_brand(tree["grid"], code="CARD04", name="邻里守望")
    rate(scored, [5, 5, 5, 4, 4, 3])
    rate(few, [2, 1])
    rate(other, [1, 2, 3, 4, 5])
    scores_recompute_full()
    prior = selectors.period_priors(codes=[periods.ALL])[periods.ALL]
    expected = (26 + prior.m * prior.mean) / (6 + prior.m)
    assert prior.mean == (26 + 3 + 15) / 13

    body = client.get("/brands/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert score_line(body, "红色家园") == f"6|Score <strong>{expected:.2f}</strong> from 6 ratings"
    assert score_line(body, "邻里守望").startswith("5|Score <strong>")
    assert score_line(body, "海润先锋") == "2|Not enough ratings to score (2 ratings)"
    assert score_line(body, "网格连心") == "0|No ratings yet."
    # The card shows what the brand page shows.
    summary = selectors.brand_score_summary(brand=scored)
    assert (summary.n, f"{summary.score:.2f}") == (6, f"{expected:.2f}")

    chinese = client.get("/brands/").content.decode()
    assert 'data-n="6"' in card(chinese, "红色家园")


def test_one_rating_is_singular_and_held_ratings_do_not_count(client, tree):
    brand = make_brand(tree["community"], code="CARD05", name="红色家园")
    rate(brand, [4])
    make_evaluation(brand, 1, state="flagged")
    scores_recompute_full()
    body = client.get("/brands/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert score_line(body, "红色家园") == "1|Not enough ratings to score (1 rating)"


def test_featured_cards_on_the_home_page_have_no_score_line(client, tree):
    brand = make_brand(tree["community"], code="CARD06", name="红色家园", status=S.DEMONSTRATION)
    rate(brand, [5] * 6)
    scores_recompute_full()
    body = client.get("/").content.decode()
    assert "红色家园" in body
    assert "card-score" not in body


def test_cards_are_cached_until_the_scores_change(client, tree):
    brand = make_brand(tree["community"], code="CARD07", name="红色家园")
    rate(brand, [5, 4])
    scores_recompute_full()
    assert selectors.brand_card_scores([brand.pk]) == {brand.pk: selectors.CardScore(n=2, score=None)}
    with CaptureQueriesContext(connection) as queries:
        assert selectors.brand_card_scores([brand.pk]) == {brand.pk: selectors.CardScore(n=2, score=None)}
    assert len(queries) == 0


def count_queries(client) -> int:
    cache.clear()  # both counts from a cold cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/brands/").status_code == 200
    return len(queries)


def test_the_directory_reads_the_page_scores_in_a_constant_number_of_queries(client, tree):
    def add(n: int) -> None:
        for i in range(n):
            brand = make_brand(tree["community" if i % 2 else "enterprise"], status=S.NAMED)
            rate(brand, [5, 4, 3, 2, 1, 5][: 1 + i % 6])
        scores_recompute_full()

    add(1)
    one = count_queries(client)
    add(19)
    twenty = count_queries(client)
    assert one == twenty
    body = client.get("/brands/").content.decode()
    assert body.count("card-score") == 12  # a full page of cards, each with its line
