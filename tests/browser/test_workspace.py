"""Journey: a secretary logs in and finds, for each brand, its score and its monthly trend, on a desktop
and on a phone (cards stacked, nothing wider than the screen)."""

import datetime

import pytest
from django.utils import timezone

from brands.models import Milestone, Plan
from evaluations import integrity, services
from evaluations.models import Evaluation
from scores import periods
from scores import selectors as score_selectors
from scores import services as score_services
from tests.browser.test_brands import log_in
from tests.factories import make_brand
from tests.scores.conftest import rate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def month_days(count: int) -> list[datetime.date]:
    """The 10th of this month and of the `count` - 1 months before, oldest first."""
    key = timezone.localdate().strftime("%Y-%m")
    keys = [key]
    while len(keys) < count:
        keys.append(periods.period_previous(keys[-1]))
    return [datetime.date(int(k[:4]), int(k[5:]), 10) for k in reversed(keys)]


@pytest.fixture
def workspace(tree, secretary, settings):
    settings.SURGE_MIN_COUNT = 10_000
    brand = make_brand(tree["community"], code="HYJY01", name="红色家园")
    days = month_days(8)
    monthly = [[5, 4, 4], [5, 5, 4, 3], [4, 4, 3, 2], [5, 5, 5, 4], [5, 4, 4, 4, 3], [5, 5, 4], [5, 5, 5, 4, 4], [5, 4]]
    for day, grades in zip(days, monthly, strict=True):
        rate(brand, grades, day=day)
        rate(brand, grades[:2], day=day, rater_group=Evaluation.RaterGroup.MEMBER)
    signals = integrity.ClientSignals(ip="10.0.9.9", device_key="phone-9", user_agent="pytest", fill_seconds=30)
    services.evaluation_submit(brand=brand, overall=2, contact="13812345678", signals=signals, channel="web")
    other = make_brand(tree["grid"], code="WGLX01", name="网格连心")
    rate(other, [4, 4, 3, 5, 4], day=days[-1])
    plan = Plan.objects.create(
        brand=brand, organization=brand.organization, start_year=2025, end_year=2027, goals="目标"
    )
    today = timezone.localdate()
    Milestone.objects.create(
        plan=plan, organization=brand.organization, title="季度走访", due_date=today - datetime.timedelta(days=2)
    )
    Milestone.objects.create(
        plan=plan, organization=brand.organization, title="居民议事会", due_date=today + datetime.timedelta(days=3)
    )
    Milestone.objects.create(
        plan=plan,
        organization=brand.organization,
        title="年度总结",
        due_date=today - datetime.timedelta(days=30),
        completed_on=today,
        weight=2,
    )
    score_services.scores_recompute_full()
    return brand


def no_sideways_scroll(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width, height, mobile", [(1440, 900, False), (375, 812, True)])
def test_secretary_sees_score_and_trend(browser, live_server, screenshot, workspace, width, height, mobile):
    summary = score_selectors.brand_score_summary(brand=workspace)
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=mobile, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server.url, "secretary", "/workspace/")
    assert page.locator("h1").inner_text() == "我的品牌"

    card = page.locator("article.workspace-brand", has=page.locator("h2", has_text="红色家园"))
    assert card.locator(".workspace-score").inner_text() == f"{summary.score:.2f}"
    chart = card.locator(".trend-chart svg")
    assert chart.is_visible()
    assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-label")
    box = chart.bounding_box()
    assert 300 <= box["width"] <= min(width, 26 * 16) and box["height"] > 150
    # The score line is drawn in the site's red, by the stylesheet.
    stroke = page.evaluate("getComputedStyle(document.querySelector('.trend-chart .color-0 .line')).stroke")
    assert stroke == "rgb(183, 28, 28)"
    assert card.locator(".workspace-rectifications li").count() == 1
    assert card.locator(".workspace-milestones li").count() == 2
    assert no_sideways_scroll(page, width)

    sections = card.locator("section.workspace-section")
    boxes = [sections.nth(i).bounding_box() for i in range(sections.count())]
    if mobile:  # stacked: one column, each section below the one before
        assert len({round(b["x"]) for b in boxes}) == 1
        assert all(upper["y"] < lower["y"] for upper, lower in zip(boxes, boxes[1:], strict=False))
    else:  # the week's two sections side by side, then score, trend and groups on one row
        assert len({round(b["y"]) for b in boxes[:2]}) == 1 and len({round(b["y"]) for b in boxes[2:]}) == 1
    screenshot(page, f"workspace-{width}")

    card.locator(".workspace-trend-table summary").click()
    table = card.locator(".workspace-trend-table table")
    assert table.is_visible()
    assert table.locator("tbody tr").count() == 12
    assert no_sideways_scroll(page, width)
    screenshot(page, f"workspace-{width}-figures")
    context.close()
