"""The Content-Security-Policy holds on the main pages: no inline script or style is needed anywhere, so
the browser reports no violation, and the header never allows 'unsafe-inline'.

Covers the public pages (home, directory, a brand, the rating form with the proof-of-work widget solving
in its worker, the receipt, tracking, rankings), the secretary's workspace with its trend chart and the
reviewer's dashboard with its charts.
"""

import pytest
from django.test import override_settings
from django.utils import timezone

from brands.models import Brand
from tests.browser.navigation import follow
from tests.dashboards.conftest import add_ratings, rebuild
from tests.factories import make_brand

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Violations:
    """Console messages and security-policy events in which the browser reports a refused resource."""

    def __init__(self, context):
        self.seen: list[str] = []
        context.on("console", self._console)
        context.on("weberror", lambda error: self.seen.append(f"page error: {error.error}"))

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.seen.append(message.text)

    def watch(self, page) -> None:
        # Each violation also fires a DOM event; recorded in the page and read back by `on_page`.
        page.add_init_script(
            "window.__csp = []; document.addEventListener('securitypolicyviolation',"
            " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )

    def on_page(self, page) -> list[str]:
        return page.evaluate("window.__csp || []")


def assert_policy_header(response) -> None:
    policy = response.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy


def visit(page, url: str, violations: Violations) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    assert_policy_header(response)
    page.wait_for_load_state("networkidle")
    assert violations.on_page(page) == [], url
    assert violations.seen == [], url


def log_in(page, base: str, username: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pass12345")
    follow(page, "main button[type=submit]")


@pytest.fixture
def rated(tree):
    brand = make_brand(
        tree["community"], code="HYL01", name="红色家园", slogan="网格连万家，服务零距离", status=Brand.Status.NAMED
    )
    make_brand(tree["enterprise"], code="HR01", name="海润先锋", status=Brand.Status.NAMED)
    today = timezone.localdate()
    for back in range(0, 200, 9):
        day = today - timezone.timedelta(days=back)
        add_ratings(Brand.objects.get(code="HYL01"), [5, 4, 2], day)
        add_ratings(Brand.objects.get(code="HR01"), [4, 5, 4], day)
    rebuild()
    return brand


@override_settings(EVALUATION_POW_SOFT_LIMIT=0, EVALUATION_MIN_FILL_SECONDS=0)
def test_no_page_breaks_the_content_security_policy(
    browser, live_server, screenshot, tree, rated, secretary, city_reviewer
):
    base = live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    violations = Violations(context)
    page = context.new_page()
    violations.watch(page)

    for url in ("/", "/brands/", "/b/HYL01/", "/rankings/"):
        visit(page, base + url, violations)

    # The rating form with the proof-of-work widget: its stylesheet is a file, it solves in a blob: worker.
    visit(page, base + "/b/HYL01/rate/", violations)
    assert page.locator("link#__altcha-css").count() == 1
    assert page.locator("head style").count() == 0  # the widget found its stylesheet and injected none
    page.click("label[for='id_overall_0']")
    page.click("altcha-widget input[type=checkbox]")
    page.wait_for_selector("altcha-widget [data-state='verified'], altcha-widget .altcha[data-state='verified']")
    screenshot(page, "csp-1-rate-verified")
    follow(page, "button[type=submit]")
    assert page.locator("#receipt").count() == 1  # the receipt (thanks) page
    assert violations.on_page(page) == [] and violations.seen == []
    receipt = page.locator("#receipt").inner_text().strip()
    visit(page, f"{base}/track/{receipt}/", violations)

    log_in(page, base, "secretary", "/workspace/")
    assert page.url == base + "/workspace/"
    visit(page, base + "/workspace/", violations)
    assert page.locator(".trend-chart svg").count() >= 1
    screenshot(page, "csp-2-workspace")
    page.context.clear_cookies()

    log_in(page, base, "reviewer", "/dashboard/")
    visit(page, base + "/dashboard/", violations)
    assert page.locator(".chart svg").count() == 5
    assert page.locator(".chart svg style, .chart svg script").count() == 0
    # The stylesheet took over from pygal's inline one: axis text is drawn in its colour, not black.
    fill = page.eval_on_selector(".chart svg .title", "e => getComputedStyle(e).fill")
    assert fill == "rgb(17, 17, 17)"
    screenshot(page, "csp-3-dashboard")
    context.close()


def test_the_policy_header_is_strict(client, db):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "worker-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
