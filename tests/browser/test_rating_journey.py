"""The citizen's journey on a phone: poster → rate → receipt → track; the secretary answers; the rater judges."""

import pytest
from django.test import override_settings

from evaluations.models import Evaluation, Rectification
from tests.browser.navigation import follow
from tests.factories import make_brand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True, "locale": "zh-CN"}


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 375


@override_settings(EVALUATION_MIN_FILL_SECONDS=1)
def test_a_citizen_rates_from_the_poster_and_sees_the_secretarys_answer(
    browser, live_server, screenshot, tree, secretary
):
    make_brand(tree["community"], code="hyl01", name="红色家园", slogan="网格连万家，服务零距离")
    rater = browser.new_context(**PHONE)
    page = rater.new_page()

    page.goto(live_server.url + "/b/hyl01/poster/")
    assert page.locator("h1.poster-name").inner_text() == "红色家园"
    assert page.locator(".poster-qr svg").count() == 1
    screenshot(page, "rate-1-poster-375")

    follow(page, ".poster-qr")  # the QR code's target: the rating form
    assert page.url == live_server.url + "/b/hyl01/rate/"
    assert no_sideways_scroll(page)
    assert page.is_visible("#id_contact") is False  # asked for only after a bad rating
    page.click("label[for='id_overall_3']")
    assert page.is_visible("#id_contact") is True  # 不满意 (choices 5..1 → index 3 is grade 2)
    page.fill("#id_comment", "楼道灯坏了两周没人修 <b>请尽快</b>")
    page.fill("#id_contact", "13812345678")
    page.wait_for_timeout(1100)
    screenshot(page, "rate-2-form-375")
    follow(page, "button[type=submit]")

    receipt = page.locator("#receipt").inner_text().strip()
    evaluation = Evaluation.objects.get()
    assert receipt == evaluation.receipt
    assert (evaluation.overall, evaluation.state, evaluation.contact) == (2, "counted", "13812345678")
    assert no_sideways_scroll(page)
    screenshot(page, "rate-3-receipt-375")

    follow(page, "text=查看我的评价和处理情况")
    assert page.url == f"{live_server.url}/track/{receipt}/"
    assert page.locator("#comment").inner_text() == "楼道灯坏了两周没人修 <b>请尽快</b>"
    assert "138****5678" in page.content()
    assert "党组织尚未答复。" in page.content()
    screenshot(page, "rate-4-track-open-375")

    office = browser.new_context(**PHONE)
    desk = office.new_page()
    desk.goto(live_server.url + "/accounts/login/?next=/workspace/rectifications/")
    desk.fill("#id_username", "secretary")
    desk.fill("#id_password", "pass12345")
    follow(desk, "form button[type=submit]")
    assert desk.url == live_server.url + "/workspace/rectifications/"
    follow(desk, "text=红色家园 >> xpath=ancestor::tr >> a")
    desk.fill("#id_response", "已更换楼道灯，并电话回访了您。")
    screenshot(desk, "rate-5-secretary-respond-375")
    follow(desk, "text=提交答复")
    assert Rectification.objects.get().status == "responded"
    screenshot(desk, "rate-6-secretary-done-375")
    office.close()

    page.reload()
    assert page.locator("#response").inner_text() == "已更换楼道灯，并电话回访了您。"
    page.click("label[for='id_verdict_0']")  # 已解决
    screenshot(page, "rate-7-track-answered-375")
    follow(page, "text=提交我的意见")
    assert "谢谢，您的意见已记录。" in page.content()
    assert Rectification.objects.get().status == "confirmed"
    screenshot(page, "rate-8-track-confirmed-375")
    rater.close()
