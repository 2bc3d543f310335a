"""Citizen pages as the server renders them: a menu that folds without JavaScript, the brand before
what people say about it, the callback question with answers that fit it, and no English words left
in the Chinese interface (the browser side of the same checks is in tests/browser/test_phone_pages.py)."""

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.test import override_settings
from django.utils import translation

from evaluations import integrity, services
from evaluations.forms import VerdictForm
from evaluations.models import CommentStatus, Evaluation, Rectification
from tests.brands.conftest import make_programme
from tests.factories import make_brand, make_evaluation

pytestmark = pytest.mark.django_db

# English that citizen pages showed (or could show) in the Chinese interface before they were translated:
# the proof-of-work widget's own texts, the old verdict labels and question, and the menu's names.
ENGLISH = [
    "I'm not a robot",
    "Verifying",
    "Verified",
    "Verification failed",
    "Verification expired",
    "Is the problem solved?",
    "Solved",
    "Partly solved",
    "Not solved",
    "Satisfied",
    "Dissatisfied",
    "Menu",
    "Brand portal",
    "Brands",
    "Rankings",
    "Track my rating",
    "Log in",
    "Skip to content",
]

WIDGET_STRINGS_ZH = {
    "label": "我不是机器人",
    "verifying": "正在验证……",
    "verified": "已验证",
    "error": "验证失败，请稍后再试。",
    "expired": "验证已过期，请重试。",
    "waitAlert": "正在验证，请稍候……",
}


class _Text(HTMLParser):
    """What a reader meets on a page: its text and the texts of alt, title, aria-label and placeholder."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.widget_strings: str | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attrs = dict(attrs)
        self.parts += [attrs[name] for name in ("alt", "title", "aria-label", "placeholder") if attrs.get(name)]
        if tag == "altcha-widget":
            self.widget_strings = attrs.get("strings")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def read(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


@pytest.fixture
def brand(tree, secretary):
    brand = make_brand(tree["community"], code="HYL01", name="红色家园", slogan="网格连万家", concept="服务零距离")
    make_programme(brand, secretary)
    make_evaluation(brand, 5, comment="服务很周到", comment_status=CommentStatus.PUBLISHED)
    return brand


def complain(client) -> Evaluation:
    """A bad rating with a contact through the form, as a citizen sends it: it opens a rectification."""
    started = signing.dumps(time.time() - 30, salt=integrity.FORM_TOKEN_SALT)
    response = client.post("/b/HYL01/rate/", {"overall": "1", "contact": "13812345678", "started": started})
    assert response.status_code == 302
    return Evaluation.objects.get(overall=1)


def answered(client, secretary) -> Evaluation:
    evaluation = complain(client)
    services.rectification_respond(rectification=evaluation.rectification, response="路灯已修复", actor=secretary)
    return evaluation


# --- navigation ------------------------------------------------------------------------------


def test_the_menu_folds_behind_a_toggler_that_needs_no_javascript(client, brand):
    html = client.get("/b/HYL01/").content.decode()
    toggle = re.search(r'<input type="checkbox" id="portal-nav-toggle"[^>]*>', html).group(0)
    assert 'aria-controls="portal-nav"' in toggle
    label = re.search(r'<label for="portal-nav-toggle" class="([^"]*)">(.*?)</label>', html)
    assert "navbar-toggler" in label.group(1).split()
    assert read(label.group(2)).parts == ["菜单"]
    menu = html[html.index('<div class="collapse navbar-collapse" id="portal-nav">') : html.index("</nav>")]
    assert read(menu).parts == ["品牌", "典型经验", "排行榜", "查询我的评价", "登录"]
    assert "<script" not in html  # the toggler is a checkbox and its label: nothing to load
    css = (Path(settings.BASE_DIR) / "static/css/portal.css").read_text()
    assert ".portal-nav-toggle:checked ~ .navbar-collapse { display: block; }" in css


# --- the public brand page -------------------------------------------------------------------


def test_the_brand_page_shows_the_brand_before_what_people_say(client, brand):
    html = client.get("/b/HYL01/").content.decode()
    parts = [
        '<h1 class="h2 mb-1">红色家园</h1>',
        '<p class="lead mb-1">网格连万家</p>',
        "华阳路社区党委",
        "服务零距离",
        'class="brand-rate-call',
        'class="brand-score',
        'class="brand-commitments',
        "当天答复",
        'class="brand-plan',
        "<strong>节点</strong>",
        'class="brand-comments',
        "服务很周到",
    ]
    assert [html.count(part) for part in parts] == [1] * len(parts)
    positions = [html.index(part) for part in parts]
    assert positions == sorted(positions)


# --- the callback question -------------------------------------------------------------------


def test_the_verdict_asks_whether_the_problem_is_solved(client, brand, secretary):
    evaluation = answered(client, secretary)
    html = client.get(f"/track/{evaluation.receipt}/").content.decode()
    start = html.index('id="fieldset-verdict"')
    fieldset = html[start : html.index("</fieldset>", start)]
    assert re.search(r"<legend>([^<]*)", fieldset).group(1).strip() == "问题解决了吗？"
    values = re.findall(r'name="verdict" id="id_verdict_\d" value="(\w+)"', fieldset)
    assert values == ["satisfied", "basic", "dissatisfied"]
    assert re.findall(r'<label class="btn btn-outline-danger" for="id_verdict_\d">([^<]*)</label>', fieldset) == [
        "已解决",
        "部分解决",
        "未解决",
    ]
    assert client.post(f"/track/{evaluation.receipt}/", {"verdict": "basic"}).status_code == 302
    assert Rectification.objects.get().verdict == "basic"
    assert "您的意见： 部分解决" in client.get(f"/track/{evaluation.receipt}/").content.decode()


def test_the_verdict_labels_in_english_keep_their_stored_values():
    with translation.override("en"):
        assert VerdictForm().fields["verdict"].label == "Is the problem solved?"
        assert [(value, str(label)) for value, label in VerdictForm().fields["verdict"].choices] == [
            ("satisfied", "Solved"),
            ("basic", "Partly solved"),
            ("dissatisfied", "Not solved"),
        ]
    with translation.override("zh-hans"):
        assert [str(label) for label in Rectification.Verdict.labels] == ["已解决", "部分解决", "未解决"]


# --- the proof-of-work widget ----------------------------------------------------------------


@override_settings(EVALUATION_POW_SOFT_LIMIT=0)
def test_the_proof_of_work_widget_speaks_the_page_language(client, brand):
    strings = read(client.get("/b/HYL01/rate/").content.decode()).widget_strings
    assert json.loads(strings) == WIDGET_STRINGS_ZH
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert json.loads(read(client.get("/b/HYL01/rate/").content.decode()).widget_strings) == {
        "label": "I'm not a robot",
        "verifying": "Verifying...",
        "verified": "Verified",
        "error": "Verification failed. Try again later.",
        "expired": "Verification expired. Try again.",
        "waitAlert": "Verifying... please wait.",
    }


def test_the_widget_strings_are_the_texts_the_vendored_widget_shows():
    script = (Path(settings.BASE_DIR) / "static/vendor/altcha/altcha.js").read_text()
    shown = set(re.findall(r"c\(fe\)\.(\w+)", script))
    # The footer (and the aria label of its link) is hidden by the hidefooter attribute.
    assert shown - set(WIDGET_STRINGS_ZH) == {"footer", "ariaLinkLabel"}
    template = (Path(settings.BASE_DIR) / "templates/evaluations/rate_form.html").read_text()
    assert re.search(r"<altcha-widget [^>]*\bhidefooter\b", template)


# --- no English in the Chinese interface -----------------------------------------------------


def test_citizen_pages_in_chinese_show_none_of_the_english_we_found(client, brand, secretary):
    evaluation = answered(client, secretary)
    pages = [
        "/",
        "/brands/",
        "/b/HYL01/",
        "/b/HYL01/rate/",
        f"/b/HYL01/rate/thanks/{evaluation.receipt}/",
        "/track/",
        f"/track/{evaluation.receipt}/",
        "/rankings/",
        "/b/HYL01/poster/",
    ]
    found = {}
    for url in pages:
        with override_settings(EVALUATION_POW_SOFT_LIMIT=0):  # the rating form with its widget
            response = client.get(url)
        assert response.status_code == 200, url
        text = "\n".join(read(response.content.decode()).parts)
        found[url] = [english for english in ENGLISH if english in text]
    assert found == {url: [] for url in pages}
