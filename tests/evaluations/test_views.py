"""Pages: the rating form, QR and poster, tracking, and the workspace, dashboard and moderation pages."""

import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from evaluations import integrity, services
from evaluations.models import CommentStatus, Evaluation, Rectification
from tests.factories import make_brand

pytestmark = pytest.mark.django_db

RATE = "/b/hyl01/rate/"


def started(seconds_ago=30):
    return signing.dumps(time.time() - seconds_ago, salt=integrity.FORM_TOKEN_SALT)


def rate(client, ua="pytest", **data):
    data.setdefault("started", started())
    return client.post(RATE, data, HTTP_USER_AGENT=ua)


def errors(response) -> list[str]:
    html = response.content.decode()
    return [e.strip() for e in re.findall(r'(?:alert alert-danger[^>]*>|invalid-feedback">)([^<]*)<', html)]


def test_the_form_renders_large_choices_and_works_without_javascript(client, brand):
    response = client.get(RATE)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('type="radio" class="btn-check" name="overall"') == 5
    assert "非常满意" in html and "非常不满意" in html
    assert "<script" not in html  # no JavaScript needed below the soft limit
    assert integrity.DEVICE_COOKIE in response.cookies
    assert 'name="website"' in html


def test_submitting_the_form_redirects_to_the_receipt(client, brand):
    response = rate(client, overall="4", management="5", rater_group="member", comment="很好")
    evaluation = Evaluation.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/b/hyl01/rate/thanks/{evaluation.receipt}/"
    assert (evaluation.overall, evaluation.management, evaluation.channel, evaluation.state) == (4, 5, "web", "counted")
    page = client.get(response.headers["Location"])
    assert evaluation.receipt in page.content.decode()


def test_the_second_rating_from_the_same_browser_is_shown_as_already_rated(client, brand):
    client.get(RATE)  # receives the device cookie
    rate(client, overall="5")
    second = rate(client, overall="3")
    page = client.get(second.headers["Location"]).content.decode()
    assert 'data-status="repeat"' in page
    assert list(Evaluation.objects.order_by("id").values_list("state", flat=True)) == ["counted", "excluded"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, ["请选择您的满意程度。"]),
        ({"overall": "7"}, ["选择一个有效的选项。 7 不在可用的选项中。"]),
        ({"overall": "3", "management": "9"}, ["选择一个有效的选项。 9 不在可用的选项中。"]),
        ({"overall": "3", "service": "0"}, ["选择一个有效的选项。 0 不在可用的选项中。"]),
        ({"overall": "3", "quality": "x"}, ["选择一个有效的选项。 x 不在可用的选项中。"]),
        ({"overall": "5", "rater_group": "boss"}, ["选择一个有效的选项。 boss 不在可用的选项中。"]),
        ({"overall": "5", "comment": "长" * 501}, ["确保该变量包含不超过 500 字符 (目前字符数 501)。"]),
        ({"overall": "1", "contact": "1" * 101}, ["确保该变量包含不超过 100 字符 (目前字符数 101)。"]),
        ({"overall": "5", "contact": "138"}, ["只有评价为“不满意”或“非常不满意”时才需要留联系方式。"]),
    ],
)
def test_every_bad_value_gives_its_exact_error_and_keeps_the_input(client, brand, data, expected):
    response = rate(client, **data)
    assert response.status_code == 400
    assert errors(response) == expected
    assert Evaluation.objects.count() == 0
    if "comment" in data:
        assert data["comment"] in response.content.decode()


def test_a_non_public_brand_has_no_rating_form_qr_or_poster(client, tree):
    make_brand(tree["community"], code="draft1", status="draft")
    for url in ("/b/draft1/rate/", "/b/draft1/qr.png", "/b/draft1/qr.svg", "/b/draft1/poster/", "/b/nosuch/rate/"):
        assert client.get(url).status_code == 404
    assert client.post("/b/draft1/rate/", {"overall": "5", "started": started()}).status_code == 404


def test_a_script_comment_is_stored_as_is_and_rendered_escaped(client, brand, district_reviewer):
    payload = "<script>alert('x')</script>"
    response = rate(client, overall="2", comment=payload)
    evaluation = Evaluation.objects.get()
    assert evaluation.comment == payload
    for html in (
        client.get(f"/track/{evaluation.receipt}/").content.decode(),
        client.get(response.headers["Location"]).content.decode(),
    ):
        assert payload not in html
    track = client.get(f"/track/{evaluation.receipt}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in track
    client.force_login(district_reviewer)
    moderation = client.get("/dashboard/moderation/").content.decode()
    assert payload not in moderation
    assert "&lt;script&gt;" in moderation


def test_honeypot_and_too_fast_form_submissions_are_stored_flagged(client, brand):
    rate(client, overall="5", website="http://spam.example")
    rate(client, ua="b", overall="5", started=started(seconds_ago=1))
    rate(client, ua="c", overall="5", started="forged")
    rows = list(Evaluation.objects.order_by("id").values_list("state", "state_reason"))
    assert rows == [("flagged", "bot-field"), ("flagged", "too-fast"), ("flagged", "form-token")]


@override_settings(EVALUATION_POW_SOFT_LIMIT=1)
def test_past_the_soft_limit_the_form_shows_the_local_altcha_widget(client, brand):
    rate(client, overall="5")
    html = client.get(RATE).content.decode()
    assert '<script src="/static/vendor/altcha/altcha.js" defer></script>' in html
    assert "<altcha-widget" in html
    # Without a solution (JavaScript off) the rating is still stored, held for review.
    client.cookies.clear()
    rate(client, ua="phone-2", overall="4")
    assert Evaluation.objects.order_by("-id").first().state_reason == "no-proof"
    client.cookies.clear()
    rate(client, ua="phone-3", overall="4", altcha=integrity.pow_solve(integrity.pow_challenge()))
    assert Evaluation.objects.order_by("-id").first().state == "counted"


@override_settings(EVALUATION_THROTTLE_IP_BRAND=1, EVALUATION_POW_SOFT_LIMIT=100)
def test_the_form_says_429_plainly(client, brand):
    rate(client, overall="5")
    response = rate(client, ua="other", overall="5")
    assert response.status_code == 429
    assert errors(response) == ["您所在网络提交的评价过多，请60分钟后再试。"]


def test_qr_codes_point_at_the_rating_form(client, brand):
    png = client.get("/b/hyl01/qr.png")
    assert png.status_code == 200
    assert png.headers["Content-Type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    svg = client.get("/b/hyl01/qr.svg?download=1")
    assert svg.headers["Content-Type"] == "image/svg+xml"
    assert svg.headers["Content-Disposition"] == 'attachment; filename="qr-hyl01.svg"'
    assert b"<svg" in svg.content
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png.content))
    assert image.size[0] == image.size[1]


@override_settings(SITE_URL="https://dj.example.cn")
def test_the_poster_is_a4_with_inline_svg_qr_and_the_brand(client, brand):
    html = client.get("/b/hyl01/poster/").content.decode()
    assert "<svg" in html
    assert "红色家园" in html and "为民服务" in html
    assert "https://dj.example.cn/b/hyl01/rate/" in html
    assert "每条意见都会在5个工作日内得到答复。" in html
    css = (Path(settings.BASE_DIR) / "static/css/evaluations.css").read_text()
    assert "@page { size: A4 portrait" in css


# --- tracking and the rater's verdict --------------------------------------------------------


def test_track_shows_the_response_and_takes_the_verdict(client, brand, secretary):
    rate(client, overall="1", contact="13812345678")
    evaluation = Evaluation.objects.get()
    url = f"/track/{evaluation.receipt}/"
    html = client.get(url).content.decode()
    assert "138****5678" in html and "13812345678" not in html
    assert "党组织尚未答复。" in html
    services.rectification_respond(rectification=evaluation.rectification, response="路灯已修复", actor=secretary)
    html = client.get(url).content.decode()
    assert "路灯已修复" in html
    assert client.post(url, {"verdict": "satisfied"}).status_code == 302
    assert Rectification.objects.get().status == "confirmed"
    assert client.post(url, {"verdict": "dissatisfied"}).status_code == 409  # already judged
    assert client.get("/track/NOSUCHRECEIPT000/").status_code == 404
    assert client.get(f"/track/?receipt={evaluation.receipt.lower()}").headers["Location"] == url
    spaced = " ".join([evaluation.receipt[:8], evaluation.receipt[8:]])
    assert client.get("/track/", {"receipt": spaced}).headers["Location"] == url
    assert client.get("/track/", {"receipt": "a/../b"}).headers["Location"] == "/track/AB/"
    bad = client.get("/track/", {"receipt": "///"})
    assert bad.status_code == 400
    assert "请输入感谢页面上的回执码。" in bad.content.decode()


# --- workspace and dashboard pages ----------------------------------------------------------


def open_rectifications(brand, n, start=0):
    for i in range(start, start + n):
        signals = integrity.ClientSignals(ip=f"10.{i // 200}.{i % 200}.1", device_key=f"d{i}")
        services.evaluation_submit(brand=brand, overall=1, signals=signals, channel="api")
    return Rectification.objects.filter(brand=brand).order_by("id")


def test_the_secretary_responds_in_the_workspace(client, brand, secretary):
    rectification = open_rectifications(brand, 1).get()
    client.force_login(secretary)
    listing = client.get("/workspace/rectifications/").content.decode()
    assert "红色家园" in listing
    assert "整改：1条未结，0条超期" in listing and "/b/hyl01/poster/" in listing
    assert client.get(f"/workspace/rectifications/{rectification.pk}/").status_code == 200
    empty = client.post(f"/workspace/rectifications/{rectification.pk}/respond/", {"response": ""})
    assert empty.status_code == 400
    ok = client.post(f"/workspace/rectifications/{rectification.pk}/respond/", {"response": "已整改"})
    assert ok.status_code == 302
    rectification.refresh_from_db()
    assert (rectification.status, rectification.response) == ("responded", "已整改")


def test_appeal_from_the_workspace_and_ruling_on_the_dashboard(client, brand, secretary, district_reviewer):
    rectification = open_rectifications(brand, 1).get()
    client.force_login(secretary)
    client.post(f"/workspace/rectifications/{rectification.pk}/appeal/", {"reason": "同一人反复差评"})
    client.force_login(district_reviewer)
    listing = client.get("/dashboard/rectifications/").content.decode()
    assert "红色家园" in listing
    response = client.post(
        f"/dashboard/rectifications/{rectification.pk}/rule/", {"decision": "uphold", "ruling": "查实"}
    )
    assert response.status_code == 302
    rectification.refresh_from_db()
    assert rectification.status == "upheld"
    assert rectification.evaluation.state == "excluded"


def test_the_reviewer_closes_an_escalated_rectification(client, brand, secretary, city_reviewer):
    rectification = open_rectifications(brand, 1).get()
    for _ in range(2):
        services.rectification_respond(rectification=rectification, response="答复", actor=secretary)
        services.rectification_verdict(rectification=rectification, verdict="dissatisfied")
    client.force_login(city_reviewer)
    response = client.post(f"/dashboard/rectifications/{rectification.pk}/close/", {"ruling": "已督办解决"})
    assert response.status_code == 302
    rectification.refresh_from_db()
    assert rectification.status == "closed"


PRIVATE_GETS = [
    "/workspace/rectifications/{pk}/",
    "/dashboard/rectifications/{pk}/",
]
PRIVATE_POSTS = [
    ("/workspace/rectifications/{pk}/respond/", {"response": "x"}),
    ("/workspace/rectifications/{pk}/appeal/", {"reason": "x"}),
    ("/dashboard/rectifications/{pk}/rule/", {"decision": "uphold", "ruling": "x"}),
    ("/dashboard/rectifications/{pk}/close/", {"ruling": "x"}),
]


def test_another_organization_gets_404_everywhere(client, brand, other_secretary, outsider):
    rectification = open_rectifications(brand, 1).get()
    for user in (other_secretary, outsider):
        client.force_login(user)
        for url in PRIVATE_GETS:
            assert client.get(url.format(pk=rectification.pk)).status_code == 404
            assert client.get(url.format(pk=999999)).status_code == 404
        for url, data in PRIVATE_POSTS:
            assert client.post(url.format(pk=rectification.pk), data).status_code == 404
        assert "红色家园" not in client.get("/workspace/rectifications/").content.decode()
    rectification.refresh_from_db()
    assert rectification.status == "open"


def test_a_secretary_cannot_rule_and_a_reviewer_cannot_respond(client, brand, secretary, district_reviewer):
    rectification = open_rectifications(brand, 1).get()
    client.force_login(secretary)
    assert client.get(f"/dashboard/rectifications/{rectification.pk}/").status_code == 404
    client.force_login(district_reviewer)
    assert client.post(f"/workspace/rectifications/{rectification.pk}/respond/", {"response": "x"}).status_code == 404


def test_private_pages_need_login(client, brand):
    for url in ("/workspace/rectifications/", "/dashboard/rectifications/", "/dashboard/moderation/"):
        assert client.get(url).status_code == 302


# --- moderation -------------------------------------------------------------------------


def comment(brand, text, device):
    signals = integrity.ClientSignals(ip="10.5.5.5", device_key=device)
    return services.evaluation_submit(brand=brand, overall=4, comment=text, signals=signals, channel="api").evaluation


def test_a_reviewer_publishes_and_hides_comments(client, brand, district_reviewer):
    first = comment(brand, "服务周到", "a")
    second = comment(brand, "你们是骗子", "b")
    client.force_login(district_reviewer)
    client.post(f"/dashboard/moderation/{first.pk}/comment/", {"decision": "publish"})
    client.post(f"/dashboard/moderation/{second.pk}/comment/", {"decision": "hide", "note": "辱骂"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.comment_status, second.comment_status, second.comment_reason) == ("published", "hidden", "辱骂")
    html = Template("{% include 'evaluations/_brand_comments.html' %}").render(Context({"brand": brand}))
    assert "服务周到" in html and "骗子" not in html


def test_the_superior_secretary_moderates_but_not_the_own_secretary(client, tree, secretary):
    own = make_brand(tree["community"], code="own")
    below = make_brand(tree["grid"], code="below")
    mine = comment(own, "自评", "a")
    child = comment(below, "网格很好", "b")
    client.force_login(secretary)
    html = client.get("/dashboard/moderation/").content.decode()
    assert "网格很好" in html and "自评" not in html
    assert client.post(f"/dashboard/moderation/{mine.pk}/comment/", {"decision": "publish"}).status_code == 404
    client.post(f"/dashboard/moderation/{child.pk}/comment/", {"decision": "publish"})
    child.refresh_from_db()
    assert child.comment_status == CommentStatus.PUBLISHED


def test_flagged_ratings_are_restored_by_a_reviewer_only(
    client, brand, district_reviewer, other_secretary, secretary, outsider
):
    signals = integrity.ClientSignals(ip="10.6.6.6", device_key="z", honeypot="x", user_agent="u")
    flagged = services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api").evaluation
    commented = comment(brand, "楼下花坛很整洁", "q")
    for user in (other_secretary, outsider, secretary):
        client.force_login(user)
        assert client.post(f"/dashboard/moderation/flagged/{flagged.pk}/restore/").status_code == 404
        assert "honeypot" not in client.get("/dashboard/moderation/flagged/").content.decode()
        url = f"/dashboard/moderation/{commented.pk}/comment/"
        assert client.post(url, {"decision": "publish"}).status_code == 404
        assert "楼下花坛很整洁" not in client.get("/dashboard/moderation/").content.decode()
    client.force_login(district_reviewer)
    assert 'data-reason="bot-field"' in client.get("/dashboard/moderation/flagged/").content.decode()
    client.post(f"/dashboard/moderation/flagged/{flagged.pk}/restore/")
    flagged.refresh_from_db()
    assert flagged.state == "counted"


# --- query counts of every list page ---------------------------------------------------------


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("rows", [1, 20])
def test_list_pages_use_a_constant_number_of_queries(client, brand, secretary, district_reviewer, rows):
    rectifications = open_rectifications(brand, rows)
    for r in rectifications:
        services.rectification_appeal(rectification=r, reason="恶意", actor=secretary)
    for i in range(rows):
        comment(brand, f"留言{i}", f"c{i}")
        signals = integrity.ClientSignals(ip=f"10.7.{i}.1", device_key=f"f{i}", honeypot="x")
        services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api")
    client.force_login(secretary)
    counts = [_count_queries(client, "/workspace/rectifications/")]
    client.force_login(district_reviewer)
    counts += [
        _count_queries(client, url)
        for url in ("/dashboard/rectifications/", "/dashboard/moderation/", "/dashboard/moderation/flagged/")
    ]
    # session, user, memberships, page count, page (+ own brands' posters, + the moderation scope);
    # the rectification lists read the organizations of their filter too
    assert counts == [7, 6, 6, 5]


# --- partials for the other branches' pages ------------------------------------------------


def test_partials_render_for_the_brand_workspace_and_dashboard(brand, secretary, district_reviewer):
    open_rectifications(brand, 2)
    request = RequestFactory().get("/")
    request.user = district_reviewer
    call = Template("{% include 'evaluations/_brand_rate_call.html' %}").render(Context({"brand": brand}))
    assert 'href="/b/hyl01/rate/"' in call and 'href="/b/hyl01/poster/"' in call
    tools = Template("{% include 'evaluations/_workspace_brand_tools.html' %}").render(Context({"brand": brand}))
    assert "整改：2条未结，0条超期" in tools and "/b/hyl01/qr.png?download=1" in tools
    panel = Template("{% include 'evaluations/_dashboard_panel.html' %}").render(
        Context({"request": request, "user": district_reviewer})
    )
    assert re.sub(r"\s+", " ", panel).count("<strong>0</strong>") == 3


def test_list_pages_are_paginated(client, brand, district_reviewer):
    for i in range(55):
        signals = integrity.ClientSignals(ip=f"10.8.{i}.1", device_key=f"p{i}", honeypot="x")
        services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api")
    client.force_login(district_reviewer)
    first = client.get("/dashboard/moderation/flagged/").content.decode()
    second = client.get("/dashboard/moderation/flagged/?page=2").content.decode()
    assert first.count('data-reason="bot-field"') == 50
    assert second.count('data-reason="bot-field"') == 5
    assert "第 2 页，共 2 页" in second
    assert client.get("/dashboard/moderation/flagged/?page=x").status_code == 200
