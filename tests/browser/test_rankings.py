"""The public rankings page in a real browser, on a phone and on a desktop."""

import pytest

from scores import services
from tests.browser.navigation import follow
from tests.factories import make_brand
from tests.scores.conftest import rate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_rankings_page_shows_bars_and_notes_and_filters(browser, live_server, screenshot, tree):
    for code, grades in {"R1": [5] * 30 + [4] * 5, "R2": [5, 5, 4, 4, 3, 2], "R3": [4, 4]}.items():
        rate(make_brand(tree["grid"], code, name=f"红色家园{code}"), grades)
    rate(make_brand(tree["enterprise"], "S1", name="海润先锋"), [5, 4, 4, 4, 1, 5])
    services.scores_recompute_full()
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/rankings/?period=2026-11")
    rows = page.locator("table.rankings-table tbody tr")
    assert rows.count() == 4
    assert rows.nth(0).locator("a").inner_text() == "红色家园R1"
    assert "评价数不足" in rows.nth(3).inner_text()
    assert page.locator("svg.grade-bar").count() == 4
    screenshot(page, "rankings-375")
    page.select_option("#id_domain", "soe")
    follow(page, "text=查看")
    assert page.locator("table.rankings-table tbody tr").count() == 1
    context.close()

    desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desktop.new_page()
    page.goto(live_server.url + "/rankings/?period=all")
    screenshot(page, "rankings-1280")
    desktop.close()
