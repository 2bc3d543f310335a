"""Citizen pages on a 375 px phone: a one-line menu that opens without JavaScript, no sideways scroll,
the brand before what people say, the callback question, and no English in the Chinese interface."""

import pytest
from django.test import override_settings

from evaluations import integrity, services
from evaluations.models import CommentStatus, Evaluation, Rectification
from scores import services as score_services
from tests.brands.conftest import make_programme
from tests.browser.navigation import follow
from tests.factories import make_brand, make_evaluation
from tests.scores.conftest import rate
from tests.test_phone_pages import ENGLISH, WIDGET_STRINGS_ZH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "locale": "zh-CN"}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


@pytest.fixture
def brand(tree, secretary):
    brand = make_brand(tree["community"], code="HYL01", name="红色家园", slogan="网格连万家，服务零距离")
    make_programme(brand, secretary)
    rate(brand, [5, 5, 4, 4, 3])
    make_evaluation(brand, 5, comment="楼道灯当天就修好了", comment_status=CommentStatus.PUBLISHED)
    score_services.scores_recompute_full()
    return brand


@pytest.fixture
def answered_complaint(brand, secretary) -> Evaluation:
    signals = integrity.ClientSignals(ip="10.0.0.9", device_key="phone-9", user_agent="pytest", fill_seconds=30)
    evaluation = services.evaluation_submit(
        brand=brand, overall=1, contact="13812345678", signals=signals, channel=Evaluation.Channel.WEB
    ).evaluation
    services.rectification_respond(rectification=evaluation.rectification, response="已更换楼道灯", actor=secretary)
    return evaluation


@pytest.mark.parametrize(
    "language, brand_name, toggler, rankings",
    [("zh-hans", "党建品牌门户", "菜单", "排行榜"), ("en", "Brand portal", "Menu", "Rankings")],
)
def test_the_folded_menu_takes_one_line_and_opens_without_javascript(
    browser, live_server, screenshot, language, brand_name, toggler, rankings
):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert page.locator(".navbar-brand").inner_text() == brand_name
    assert page.locator(".navbar-toggler").inner_text() == toggler
    nav, brand, label = box(page, "nav.portal-navbar"), box(page, ".navbar-brand"), box(page, ".navbar-toggler")
    # One line: brand and toggler side by side, and the bar no taller than the taller of them plus its padding.
    assert abs((brand["y"] + brand["height"] / 2) - (label["y"] + label["height"] / 2)) <= 2
    assert brand["x"] + brand["width"] <= label["x"]
    assert nav["height"] <= max(brand["height"], label["height"]) + 16 + 1
    assert page.is_visible(f"#portal-nav >> text={rankings}") is False
    assert no_sideways_scroll(page)
    screenshot(page, f"phone-nav-closed-{language}")

    page.click(".navbar-toggler")
    assert page.is_visible(f"#portal-nav >> text={rankings}") is True
    assert no_sideways_scroll(page)
    screenshot(page, f"phone-nav-open-{language}")
    follow(page, f"#portal-nav >> text={rankings}")
    assert page.url == live_server.url + "/rankings/"
    context.close()


def test_on_a_desktop_the_menu_is_inline_without_a_toggler(browser, live_server, screenshot):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert page.is_visible(".navbar-toggler") is False
    assert page.is_visible("#portal-nav >> text=排行榜") is True
    nav, brand = box(page, "nav.portal-navbar"), box(page, ".navbar-brand")
    link = box(page, "#portal-nav .nav-link >> nth=0")
    assert nav["height"] <= max(brand["height"], link["height"]) + 16 + 1
    screenshot(page, "desktop-nav-1280")
    context.close()


def test_the_brand_page_shows_the_brand_before_the_comments(browser, live_server, screenshot, brand):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(live_server.url + "/b/HYL01/")
    order = [
        ".brand-page h1",
        ".brand-page > dl",
        ".brand-rate-call",
        ".brand-score",
        ".brand-commitments",
        ".brand-plan",
        ".brand-comments",
    ]
    assert [page.locator(selector).count() for selector in order] == [1] * len(order)
    assert page.locator(".brand-page h1").inner_text() == "红色家园"
    assert page.locator(".brand-comments").inner_text().endswith("楼道灯当天就修好了")
    tops = [box(page, selector)["y"] for selector in order]
    assert tops == sorted(tops)
    follows = page.evaluate(
        """selectors => selectors.slice(1).every((selector, i) =>
             document.querySelector(selectors[i]).compareDocumentPosition(document.querySelector(selector))
             & Node.DOCUMENT_POSITION_FOLLOWING)""",
        order,
    )
    assert follows is True
    assert no_sideways_scroll(page)
    screenshot(page, "phone-brand-page-375")
    context.close()


def test_the_rater_is_asked_whether_the_problem_is_solved(browser, live_server, screenshot, answered_complaint):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/track/{answered_complaint.receipt}/")
    assert page.locator("#fieldset-verdict legend").inner_text() == "问题解决了吗？ *"  # * marks a required answer
    assert page.locator("#fieldset-verdict label").all_inner_texts() == ["已解决", "部分解决", "未解决"]
    assert no_sideways_scroll(page)
    screenshot(page, "phone-verdict-375")
    page.click("label[for='id_verdict_1']")  # 部分解决
    follow(page, "#rectification button[type=submit]")
    assert Rectification.objects.get().verdict == "basic"
    assert "您的意见： 部分解决" in page.locator("#rectification").inner_text()
    context.close()


@override_settings(EVALUATION_POW_SOFT_LIMIT=0)
def test_citizen_pages_fit_the_phone_and_show_no_english(browser, live_server, screenshot, answered_complaint):
    receipt = answered_complaint.receipt
    pages = {
        "home": "/",
        "directory": "/brands/",
        "brand": "/b/HYL01/",
        "rate": "/b/HYL01/rate/",
        "thanks": f"/b/HYL01/rate/thanks/{receipt}/",
        "track-lookup": "/track/",
        "track": f"/track/{receipt}/",
        "rankings": "/rankings/",
        "poster": "/b/HYL01/poster/",
    }
    context = browser.new_context(**PHONE)
    page = context.new_page()
    english, too_wide = {}, []
    for name, url in pages.items():
        page.goto(live_server.url + url)
        if name == "rate":
            # The proof-of-work widget (past the soft limit) draws its own texts: in Chinese.
            assert page.locator("altcha-widget label").inner_text() == WIDGET_STRINGS_ZH["label"]
        text = page.locator("body").inner_text()
        if name == "rate":
            text += "\n" + page.locator("altcha-widget").evaluate("w => (w.shadowRoot || w).textContent")
        english[name] = [phrase for phrase in ENGLISH if phrase in text]
        if not no_sideways_scroll(page):
            too_wide.append(name)
        screenshot(page, f"phone-{name}-375")
    assert english == {name: [] for name in pages}
    assert too_wide == []
    context.close()
