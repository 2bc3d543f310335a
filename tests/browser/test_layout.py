"""The base layout in a real browser: Chinese text renders, phone width has no sideways scroll."""

import pytest

from tests.browser.navigation import follow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_reads_well_on_a_phone(browser, live_server, screenshot):
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True, locale="zh-CN"
    )
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "党建品牌，由服务对象来评判"
    # Bootstrap came from our own static files and applied.
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "home-375")
    page.select_option("#language-select", "en")
    follow(page, "text=切换")
    assert page.locator("h1").inner_text() == "Party-building brands, judged by the people they serve"
    screenshot(page, "home-375-en")
    context.close()
