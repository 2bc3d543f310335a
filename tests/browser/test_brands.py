"""Journey: a secretary files a brand with a logo and submits it; the reviewer approves; the public sees it."""

import pytest

from brands.models import Brand
from tests.brands.conftest import image_bytes
from tests.browser.navigation import follow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, username, next_url):
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass12345")
    follow(page, "main button[type=submit]")


def test_secretary_files_reviewer_approves_public_sees(
    browser, live_server, screenshot, tree, secretary, city_reviewer, tmp_path
):
    logo = tmp_path / "logo.png"
    logo.write_bytes(image_bytes("PNG", size=(300, 300), color=(183, 28, 28)))
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    base = live_server.url

    log_in(page, base, "secretary", "/workspace/")
    assert page.locator("h1").inner_text() == "我的品牌"
    follow(page, "text=创建新品牌")
    page.select_option("#id_organization", str(tree["grid"].pk))
    page.fill("#id_name", "网格连心")
    page.fill("#id_slogan", "一格一员，事事有人管")
    page.fill("#id_concept", "把党员作用落到每一个网格。")
    page.fill("#id_carrier", "网格党员责任区")
    page.check("input[name=service_targets][value=masses]")
    page.check("input[name=service_targets][value=members]")
    page.set_input_files("#id_logo", str(logo))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "brands-1-secretary-files-brand")
    follow(page, "main button[type=submit]")

    brand = Brand.objects.get()
    assert page.url == f"{base}/workspace/brands/{brand.code}/"
    assert page.locator(".alert-success").inner_text() == f"品牌已保存为草稿，公开编号为 {brand.code}。"
    assert page.locator("img.brand-logo").count() == 1
    follow(page, "text=提交审核")
    assert page.locator(".alert-success").inner_text() == "已提交审核。"
    assert page.locator("main .badge").first.inner_text() == "已提交"
    screenshot(page, "brands-2-submitted")
    page.click(".navbar-toggler")  # the phone-width menu is folded
    follow(page, "nav button[type=submit]")  # log out

    log_in(page, base, "reviewer", "/dashboard/")
    assert page.locator("h1").inner_text() == "审核台"
    follow(page, "text=网格连心")
    page.check("input[name=decision][value=approve]")
    page.fill("#id_comment", "同意列入培育。")
    screenshot(page, "brands-3-reviewer-decides")
    follow(page, "text=提交审核决定")
    assert page.locator(".alert-success").inner_text() == "审核决定已记录。"
    assert Brand.objects.get().status == Brand.Status.CULTIVATING
    page.click(".navbar-toggler")
    follow(page, "nav button[type=submit]")

    page.goto(f"{base}/brands/")
    card = page.locator(".brand-card")
    assert card.count() == 1
    assert card.locator("h2").inner_text() == "网格连心"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "brands-4-public-directory")
    with page.expect_navigation():
        card.locator("h2 a").click()
    assert page.locator("h1").inner_text() == "网格连心"
    assert page.locator("img.brand-logo").get_attribute("src").startswith("/media/brands/logos/small/")
    screenshot(page, "brands-5-public-brand-page")
    context.close()
