"""Journey: the organization department reads the dashboard, drills into 市北区, opens a warning, starts a 帮扶
case and downloads the Excel file; at 1440 px and at 375 px."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from brands.models import Brand, Milestone, Plan
from dashboards.models import SupportCase
from dashboards.services import warnings_evaluate
from tests.browser.navigation import follow
from tests.dashboards.conftest import add_ratings, rebuild
from tests.factories import make_brand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/?next=/dashboard/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass12345")
    follow(page, "main button[type=submit]")


@pytest.fixture
def city_data(tree, settings):
    settings.WARNING_OVERDUE_MILESTONES = 1
    today = timezone.localdate()
    lagging = make_brand(tree["grid"], "LAG01", name="网格连心")
    make_brand(tree["community"], "HY001", name="红色家园", status="demonstration")
    make_brand(tree["enterprise"], "HR001", name="海润先锋")
    for back in range(0, 200, 9):
        day = today - timedelta(days=back)
        for code, grades in (("LAG01", [3, 2, 4]), ("HY001", [5, 5, 4]), ("HR001", [4, 5, 4])):
            add_ratings(Brand.objects.get(code=code), grades, day)
    plan = Plan.objects.create(brand=lagging, organization_id=lagging.organization_id, start_year=2026, end_year=2027)
    Milestone.objects.create(
        plan=plan, organization_id=lagging.organization_id, title="建立网格台账", due_date=date(2026, 6, 30)
    )
    rebuild()
    warnings_evaluate()
    return lagging


@pytest.mark.parametrize(("width", "label"), [(1440, "1440"), (375, "375")])
def test_the_reviewer_drills_down_acts_on_a_warning_and_exports(
    browser, live_server, screenshot, tree, city_data, city_reviewer, width, label, tmp_path
):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    base = live_server.url
    log_in(page, base, "reviewer")
    assert page.locator("h1").inner_text() == "审核台"
    assert page.locator("#crumbs .breadcrumb-item.active").inner_text() == "中共青岛市委员会"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"dashboard-1-city-{label}")

    follow(page, f"#children tr[data-org='{tree['district'].pk}'] a")
    assert page.locator("#crumbs .breadcrumb-item.active").inner_text() == "中共青岛市市北区委员会"
    assert page.locator("#children tbody tr").count() == 1
    screenshot(page, f"dashboard-2-district-{label}")

    follow(page, "#warnings li[data-rule='milestones'] a")
    assert page.locator("#figures dd").first.inner_text() == "1"  # one overdue milestone
    page.select_option("#id_mentor", str(tree["community"].pk))
    page.fill("#id_goal", "结对帮扶，三个月内补齐网格台账。")
    screenshot(page, f"dashboard-3-warning-{label}")
    follow(page, "main button.btn-danger[type=submit]")
    case = SupportCase.objects.get()
    assert page.url == f"{base}/support/{case.pk}/"
    assert (case.brand.code, case.mentor_id) == ("LAG01", tree["community"].pk)
    screenshot(page, f"dashboard-4-case-{label}")

    page.goto(f"{base}/dashboard/")
    with page.expect_download() as download:
        page.click("#excel")
    path = tmp_path / "dashboard.xlsx"
    download.value.save_as(path)
    book = load_workbook(path)
    assert book.sheetnames == ["排名", "组织", "整改", "预警"]
    assert [row[0].value for row in book["预警"].iter_rows(min_row=2)] == ["网格连心"]
    context.close()
