"""One-time rating codes and surge holds in the browser: a secretary prints slips, a citizen rates with one
on a phone (and cannot use it twice); a surge holds a rater's rating, the rater sees why, a reviewer releases it."""

import pytest
from django.test import override_settings

from evaluations import integrity, services
from evaluations.models import Evaluation, RatingCode, Surge
from tests.browser.navigation import follow
from tests.factories import make_brand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "locale": "zh-CN"}
A4 = {"width": 794, "height": 1123}  # an A4 page at 96 dpi
A4_PRINTED = {"width": 718, "height": 1047}  # what is printed of it inside the sheet's 10 mm margins

# How many lines each element matching a selector takes (one client rect per line of its text).
LINES_OF = """selector => [...document.querySelectorAll(selector)].map(element => {
    const range = document.createRange();
    range.selectNodeContents(element);
    return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
})"""


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


def log_in(page, live_server, username: str, next_url: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass12345")
    follow(page, "form button[type=submit]")
    assert page.url == live_server.url + next_url


@override_settings(EVALUATION_MIN_FILL_SECONDS=1)
def test_a_secretary_prints_codes_and_a_citizen_rates_once_with_one(browser, live_server, screenshot, tree, secretary):
    brand = make_brand(tree["community"], code="hyl01", name="红色家园", slogan="网格连万家，服务零距离")
    office = browser.new_context(**PHONE)
    desk = office.new_page()
    log_in(desk, live_server, "secretary", "/workspace/")
    follow(desk, "a[href='/workspace/brands/hyl01/rating-codes/']:text-is('评价码')")
    assert desk.url == f"{live_server.url}/workspace/brands/hyl01/rating-codes/"
    assert desk.locator("h1").inner_text() == "“红色家园”的评价码"
    assert no_sideways_scroll(desk)
    desk.fill("#id_count", "8")
    desk.fill("#id_valid_days", "14")
    screenshot(desk, "codes-1-issue-375")
    follow(desk, "form button[type=submit]:has-text('发放并打印')")

    slips = desk.locator(".slip")
    assert slips.count() == 8
    assert desk.locator(".slip-qr svg").count() == 8
    assert RatingCode.objects.filter(brand=brand, used_at=None).count() == 8
    assert no_sideways_scroll(desk)
    screenshot(desk, "codes-2-sheet-375")
    desk.set_viewport_size(A4)
    screenshot(desk, "codes-3-sheet-a4")
    desk.emulate_media(media="print")
    desk.set_viewport_size(A4_PRINTED)  # print lays the page out at the width inside its margins
    assert desk.locator(".slip-sheet").evaluate("e => getComputedStyle(e).gridTemplateColumns").count("px") == 2
    assert desk.is_visible("nav") is False
    # a code is typed from its slip, and the note's date read at a glance: neither may break across lines
    assert desk.evaluate(LINES_OF, ".slip-code") == [1] * 8
    assert desk.evaluate(LINES_OF, ".slip-note") == [1] * 8
    screenshot(desk, "codes-4-sheet-a4-print")
    link = desk.locator("a.slip-qr").first.get_attribute("href")
    printed = desk.locator(".slip-code").first.inner_text()
    office.close()
    assert link.startswith(f"{live_server.url}/b/hyl01/rate/?c=")
    assert link.endswith("?c=" + printed.replace("-", ""))

    rater = browser.new_context(**PHONE)
    page = rater.new_page()
    page.goto(link)
    assert page.input_value("#id_code") == printed.replace("-", "")
    assert no_sideways_scroll(page)
    page.click("label[for='id_overall_0']")  # 非常满意 (choices 5..1)
    page.wait_for_timeout(1100)
    screenshot(page, "codes-5-form-375")
    follow(page, "button[type=submit]")
    standing = page.locator("#standing[data-status='counted']")
    assert "您的评价已计入，并已通过评价码核验。" in standing.inner_text()
    evaluation = Evaluation.objects.get()
    assert (evaluation.overall, evaluation.verified, evaluation.state) == (5, True, "counted")
    assert page.locator("#receipt").inner_text().strip() == evaluation.receipt
    assert RatingCode.objects.filter(brand=brand, used_at=None).count() == 7
    assert no_sideways_scroll(page)
    screenshot(page, "codes-6-thanks-375")

    page.goto(link)  # the same slip, scanned again
    page.click("label[for='id_overall_0']")
    page.wait_for_timeout(1100)
    follow(page, "button[type=submit]")
    assert page.locator("#id_code.is-invalid ~ .invalid-feedback").inner_text() == (
        "该评价码已被使用。每个评价码只能评价一次。"
    )
    assert Evaluation.objects.count() == 1
    assert no_sideways_scroll(page)
    screenshot(page, "codes-7-used-again-375")
    rater.close()


@override_settings(
    SURGE_MIN_COUNT=2, SURGE_MIN_DAILY=0.01, EVALUATION_POW_SOFT_LIMIT=10_000, EVALUATION_BURST_LIMIT=10_000
)
def test_a_surge_holds_a_rating_the_rater_sees_why_and_a_reviewer_releases_it(
    browser, live_server, screenshot, tree, district_reviewer
):
    brand = make_brand(tree["community"], code="hyl01", name="红色家园")
    results = []
    for i in range(10):
        signals = integrity.ClientSignals(ip=f"10.{i}.0.1", device_key=f"phone-{i}")
        results.append(services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api"))
        if results[-1].evaluation.state == "flagged":
            break
    held = results[-1].evaluation
    assert [r.evaluation.state for r in results] == ["counted", "counted", "flagged"]
    surge = Surge.objects.get()
    assert held.surge_id == surge.pk

    rater = browser.new_context(**PHONE)
    page = rater.new_page()
    page.goto(f"{live_server.url}/track/{held.receipt}/")
    standing = page.locator("#standing[data-status='held']")
    assert "您的评价已保存，暂缓计入，等待审核" in standing.inner_text()
    assert standing.locator("li[data-reason='surge']").inner_text() == "该服务今天收到的评价远多于平常，正在核查"
    assert no_sideways_scroll(page)
    screenshot(page, "surge-1-track-held-375")

    office = browser.new_context(**PHONE)
    desk = office.new_page()
    log_in(desk, live_server, "district_reviewer", "/dashboard/rectifications/")
    follow(desk, "a:text-is('评价激增')")
    assert desk.url == live_server.url + "/dashboard/surges/"
    assert desk.locator(f"#surges tr[data-surge='{surge.pk}'] td").nth(2).inner_text() == "1"
    assert no_sideways_scroll(desk)
    screenshot(desk, "surge-2-list-375")
    assert desk.locator(f"#surges tr[data-surge='{surge.pk}'] a").inner_text() == "查看"
    follow(desk, f"#surges tr[data-surge='{surge.pk}'] a")
    assert desk.url == f"{live_server.url}/dashboard/surges/{surge.pk}/"
    assert desk.locator("#held").inner_text() == "1"
    assert desk.locator("#day-total").inner_text() == "3"
    assert no_sideways_scroll(desk)
    desk.click("label:has-text('放行')")
    desk.fill("#id_note", "社区议事会")
    screenshot(desk, "surge-3-detail-375")
    follow(desk, "button:has-text('记录决定')")
    assert desk.locator("#surge-status").inner_text() == "已放行：评价计入"
    assert "社区议事会" in desk.locator("main").inner_text()
    surge.refresh_from_db()
    assert (surge.status, surge.decided_by_id) == ("released", district_reviewer.pk)
    assert list(Evaluation.objects.order_by("id").values_list("state", flat=True)) == ["counted"] * 3
    assert no_sideways_scroll(desk)
    screenshot(desk, "surge-4-released-375")
    follow(desk, "a:text-is('全部评价激增')")
    assert desk.locator(f"#surges tr[data-surge='{surge.pk}'] td").nth(4).inner_text() == "已放行：评价计入"
    assert no_sideways_scroll(desk)
    screenshot(desk, "surge-5-list-decided-375")
    office.close()

    page.reload()
    assert page.locator("#standing").get_attribute("data-status") == "counted"
    screenshot(page, "surge-6-track-counted-375")
    rater.close()
