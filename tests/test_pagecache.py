"""Cached public pages (config.pagecache): a repeated anonymous read costs no query, and every change a page
shows — a fold, a brand's content or status, a published comment, the language, logging in — shows at the
next read. Each reader gets a CSRF token of their own."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from brands import services as brand_services
from evaluations import services as evaluation_services
from evaluations.models import CommentStatus
from scores.services import scores_recompute_full
from tests.factories import make_brand, make_evaluation

pytestmark = pytest.mark.django_db

PAGE = "/b/PC001/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def brand(tree):
    return make_brand(tree["community"], code="PC001", name="缓存之家")


def read(client: Client, path: str = PAGE, **headers) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def without_token(html: str) -> str:
    return TOKEN.sub("", html)


@pytest.mark.parametrize("path", [PAGE, "/brands/", "/rankings/", "/brands/?q=%E7%BC%93%E5%AD%98"])
def test_a_repeated_anonymous_read_is_served_without_a_query_and_with_the_readers_own_csrf_token(brand, path):
    first_html, first_queries = read(Client(), path)
    reader = Client(enforce_csrf_checks=True)
    html, queries = read(reader, path)
    assert first_queries > 0
    assert queries == 0
    assert without_token(html) == without_token(first_html)
    assert "缓存之家" in html or path == "/rankings/"  # no rating yet: not ranked
    # the language switch works with the token the cached page carries, and it is not the first reader's
    token = TOKEN.search(html).group(1)
    assert token != TOKEN.search(first_html).group(1)
    switched = reader.post("/i18n/setlang/", {"language": "en", "next": path, "csrfmiddlewaretoken": token})
    assert switched.status_code == 302


def test_a_fold_shows_at_the_next_read(brand, django_capture_on_commit_callbacks):
    html, _queries = read(Client())
    assert "No ratings yet." in html or "暂无评价" in html
    for grade in (5, 4, 5):
        make_evaluation(brand, grade)
    with django_capture_on_commit_callbacks(execute=True):
        scores_recompute_full()
    html, queries = read(Client())
    assert queries > 0
    assert re.search(r"<dd class=\"col-6\">3</dd>", html)
    ranking, _queries = read(Client(), "/rankings/?period=all")
    assert "缓存之家" in ranking


def test_a_secretarys_change_and_a_revocation_show_at_the_next_read(brand, secretary, city_reviewer):
    read(Client())
    directory, _queries = read(Client(), "/brands/")
    assert "缓存之家" in directory
    brand_services.commitment_add(user=secretary, brand=brand, text="每周一次上门走访")
    assert "每周一次上门走访" in read(Client())[0]
    brand_services.brand_review(user=city_reviewer, brand=brand, decision="revoke", comment="不再开展")
    assert Client().get(PAGE).status_code == 404
    assert "缓存之家" not in read(Client(), "/brands/")[0]


def test_a_published_comment_shows_at_the_next_read(brand, district_reviewer):
    evaluation = make_evaluation(brand, 5, comment="服务很周到", comment_status=CommentStatus.PENDING)
    assert "服务很周到" not in read(Client())[0]
    evaluation_services.evaluation_moderate_comment(evaluation=evaluation, publish=True, actor=district_reviewer)
    assert "服务很周到" in read(Client())[0]


def test_each_language_and_a_logged_in_reader_get_their_own_page(brand, secretary):
    chinese, _queries = read(Client(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    english, _queries = read(Client(), HTTP_ACCEPT_LANGUAGE="en")
    assert 'lang="zh-hans"' in chinese
    assert 'lang="en"' in english
    assert read(Client(), HTTP_ACCEPT_LANGUAGE="zh-hans")[0].count('lang="zh-hans"') == 1
    logged_in = Client()
    logged_in.force_login(secretary)
    html, _queries = read(logged_in)
    assert "secretary" in html and "Log out" in html or "退出" in html
    assert "secretary" not in read(Client())[0]
