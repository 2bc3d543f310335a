"""Error pages: a wrong receipt or brand code gets a translated 404 with ways on; a 500 needs nothing that can fail."""

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.test import override_settings
from django.urls import path


def broken_view(request):
    raise RuntimeError("boom")


# Used as ROOT_URLCONF below: one page that always fails.
urlpatterns = [path("broken/", broken_view)]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/track/NOPE/", "/b/NOPE/rate/", "/b/NOPE/poster/", "/no-such-page/"])
def test_a_wrong_receipt_or_brand_code_gets_the_chinese_404_with_ways_on(client, url):
    assert settings.DEBUG is False
    response = client.get(url)
    assert response.status_code == 404
    assert [t.name for t in response.templates][0] == "404.html"
    page = response.content.decode()
    assert '<h1 class="h3">找不到该页面</h1>' in page
    assert "请对照评价码卡片或海报核对后重试" in page
    assert "Not Found" not in page
    for href, words in (("/", "首页"), ("/brands/", "全部品牌"), ("/track/", "查询我的评价")):
        assert f'href="{href}">{words}</a>' in page


@pytest.mark.django_db
def test_the_404_speaks_english_to_an_english_visitor(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/track/NOPE/")
    assert response.status_code == 404
    assert '<h1 class="h3">Page not found</h1>' in response.content.decode()


def test_the_500_page_is_plain_bilingual_html_with_no_template_tags():
    template = get_template("500.html")
    assert "{%" not in template.template.source and "{{" not in template.template.source
    page = template.render({})
    assert "{%" not in page
    assert "<h1>服务器出错了</h1>" in page
    assert '<h2 lang="en">Server error</h2>' in page


@override_settings(ROOT_URLCONF=__name__)
def test_a_failing_view_is_answered_with_the_500_page(client):
    client.raise_request_exception = False
    response = client.get("/broken/")
    assert response.status_code == 500
    assert "<h1>服务器出错了</h1>" in response.content.decode()
