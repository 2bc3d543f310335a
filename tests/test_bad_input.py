"""Bad input is a 4xx, never a 500: control characters in URLs, non-finite JSON numbers."""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from tests.factories import BrandFactory, UserFactory

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def routes_with_text_parameters(patterns=None, prefix: str = ""):
    """Every route (a `path()` string, prefixes joined) that takes a str or path parameter."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # regex routes (admin's app index) accept only fixed names
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from routes_with_text_parameters(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and any(
            (match["converter"] or "str") in ("str", "path") for match in PARAMETER.finditer(route)
        ):
            yield route


def with_value(route: str, text: str) -> str:
    def replace(match):
        return "1" if match["converter"] == "int" else text

    return "/" + PARAMETER.sub(replace, route)


ROUTES = sorted(set(routes_with_text_parameters()))


def test_the_walk_finds_the_code_and_receipt_routes():
    assert "b/<str:code>/" in ROUTES
    assert "track/<str:receipt>/" in ROUTES
    assert "api/v1/evaluations/<str:receipt>/" in ROUTES
    assert len(ROUTES) >= 16


@pytest.mark.parametrize("text", ["%00", "RED%00234", "%1F", "%7F", "%C2%85"])
@pytest.mark.parametrize("who", ["anonymous", "secretary", "reviewer", "superuser"])
def test_a_control_character_in_a_url_is_404_on_every_route(tree, secretary, city_reviewer, who, text):
    BrandFactory(organization=tree["community"], code="RED234")
    users = {
        "secretary": secretary,
        "reviewer": city_reviewer,
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
    }
    client = Client(raise_request_exception=False)
    if who in users:
        client.force_login(users[who])
    answers = {}
    for route in ROUTES:
        url = with_value(route, text)
        answers[url] = (client.get(url).status_code, client.post(url).status_code)
    assert {url: codes for url, codes in answers.items() if codes != (404, 404)} == {}


def test_a_control_character_in_a_url_is_the_site_404_page(tree):
    response = Client().get("/b/%00/")
    assert response.status_code == 404
    assert "404.html" in [template.name for template in response.templates]


def test_a_good_code_still_resolves(tree):
    brand = BrandFactory(organization=tree["community"], code="RED234", status="named")
    assert Client().get(f"/b/{brand.code}/").status_code == 200


# --- JSON bodies -------------------------------------------------------------------------------------

FINITE_ONLY = {"detail": "JSON parse error - numbers must be finite"}


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e999"])
def test_a_number_too_large_for_a_float_in_a_rating_is_a_fieldless_400(api_client, tree, number):
    brand = BrandFactory(organization=tree["community"], code="RED234", status="named")
    response = api_client.post(
        f"/api/v1/brands/{brand.code}/evaluations/", f'{{"overall": {number}}}', content_type="application/json"
    )
    assert (response.status_code, response.json()) == (400, FINITE_ONLY)
    assert brand.evaluations.count() == 0


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ('{"name": 1e400}', "JSON parse error - numbers must be finite"),
        ('{"name": NaN}', "JSON parse error - NaN is not valid JSON"),
        ('{"name": -Infinity}', "JSON parse error - -Infinity is not valid JSON"),
    ],
)
def test_non_finite_numbers_are_refused_on_an_authenticated_endpoint(api_client, tree, secretary, body, detail):
    api_client.force_authenticate(secretary)
    response = api_client.post("/api/v1/brands/", body, content_type="application/json")
    assert (response.status_code, response.json()) == (400, {"detail": detail})


def test_ordinary_numbers_still_parse(api_client, tree):
    brand = BrandFactory(organization=tree["community"], code="RED234", status="named")
    response = api_client.post(
        f"/api/v1/brands/{brand.code}/evaluations/", '{"overall": 1.0e0}', content_type="application/json"
    )
    assert response.status_code == 201
    assert brand.evaluations.get().overall == 1


# --- Forms act only when valid: moderation -------------------------------------------------------


def _comment(brand, text: str, device: str):
    from evaluations import integrity, services

    signals = integrity.ClientSignals(ip="10.5.5.5", device_key=device)
    return services.evaluation_submit(brand=brand, overall=4, comment=text, signals=signals, channel="api").evaluation


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        ({"decision": "delete"}, ["Choose whether to publish or to hide the comment."]),
        ({}, ["Choose whether to publish or to hide the comment."]),
        ({"decision": "hide", "note": "长" * 201}, ["Ensure this value has at most 200 characters (it has 201)."]),
    ],
)
def test_an_invalid_moderation_request_is_400_and_changes_nothing(client, tree, district_reviewer, data, messages):
    from tests.factories import make_brand

    brand = make_brand(tree["community"], code="hyl01")
    evaluation = _comment(brand, "你们是骗子", "a")
    before = (evaluation.comment_status, evaluation.comment_reason)
    client.force_login(district_reviewer)
    response = client.post(f"/dashboard/moderation/{evaluation.pk}/comment/", data, HTTP_ACCEPT_LANGUAGE="en")
    evaluation.refresh_from_db()
    assert response.status_code == 400
    assert (evaluation.comment_status, evaluation.comment_reason) == before
    assert [str(m) for m in response.context["messages"]] == messages


def test_a_restore_with_a_note_too_long_is_400_and_changes_nothing(client, tree, district_reviewer):
    from evaluations import integrity, services
    from tests.factories import make_brand

    brand = make_brand(tree["community"], code="hyl01")
    signals = integrity.ClientSignals(ip="10.6.6.6", device_key="z", honeypot="x", user_agent="u")
    flagged = services.evaluation_submit(brand=brand, overall=5, signals=signals, channel="api").evaluation
    client.force_login(district_reviewer)
    response = client.post(f"/dashboard/moderation/flagged/{flagged.pk}/restore/", {"note": "长" * 201})
    flagged.refresh_from_db()
    assert (response.status_code, flagged.state) == (400, "flagged")
    assert [str(m) for m in response.context["messages"]] == ["确保该变量包含不超过 200 字符 (目前字符数 201)。"]


# --- Images: the pixel count is checked from the header, before decoding ---------------------------


def png_of(width: int, height: int) -> bytes:
    """A real, fully decodable RGB PNG of this size, built row by row (never the whole bitmap in memory)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xc8\x1e\x1e" * width
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def png_6300():
    return png_of(6300, 6300)


def test_a_6300_square_png_is_refused_through_the_form_and_nothing_is_stored(client, tree, secretary, png_6300):
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    from brands.models import Brand

    media_before = (
        sorted(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()) if settings.MEDIA_ROOT.exists() else []
    )
    client.force_login(secretary)
    response = client.post(
        "/workspace/brands/new/",
        {
            "organization": tree["community"].pk,
            "name": "新品牌",
            "slogan": "口号",
            "concept": "理念",
            "service_targets": ["masses"],
            "level": "grassroots",
            "logo": SimpleUploadedFile("big.png", png_6300, content_type="image/png"),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "logo": ["The image is 6300 × 6300 pixels; at most 25 megapixels are accepted."]
    }
    assert Brand.objects.count() == 0
    media_after = (
        sorted(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()) if settings.MEDIA_ROOT.exists() else []
    )
    assert media_after == media_before


def test_a_6300_square_png_is_a_400_through_the_api(api_client, tree, secretary, png_6300):
    from django.core.files.uploadedfile import SimpleUploadedFile

    brand = BrandFactory(organization=tree["community"], code="RED234")
    api_client.force_authenticate(secretary)
    response = api_client.patch(
        f"/api/v1/brands/{brand.code}/",
        {"logo": SimpleUploadedFile("big.png", png_6300, content_type="image/png")},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    brand.refresh_from_db()
    assert (response.status_code, response.json()) == (
        400,
        {"logo": ["The image is 6300 × 6300 pixels; at most 25 megapixels are accepted."]},
    )
    assert brand.logo.name == ""


def test_the_pixel_limit_is_a_setting(settings, png_6300):
    from django.core.files.base import ContentFile

    from brands import images

    settings.IMAGE_MAX_PIXELS = settings.IMAGE_MAX_DECODED_PIXELS = 40_000_000
    result = images.normalize(ContentFile(png_6300, name="big.png"), kind="logo")
    from PIL import Image

    assert Image.open(result.original).size == (2048, 2048)


MEMORY_PROBE = """
import os, resource, sys
import django
django.setup()
from django.core.files.base import ContentFile
from django.core.exceptions import ValidationError
from brands import images
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    images.normalize(ContentFile(data, name="big.png"), kind="logo")
    outcome = "stored"
except ValidationError:
    outcome = "refused"
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(outcome, (after - before) // 1024)
"""


def _upload_in_a_fresh_process(tmp_path, data: bytes) -> tuple[str, int]:
    """What one upload does in a fresh process, and how much its peak resident memory grew, in MB
    (ru_maxrss: Pillow allocates outside tracemalloc's view)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    picture = tmp_path / "big.png"
    picture.write_bytes(data)
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test", PYTHONPATH=str(root))
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(picture)], cwd=root, env=env, capture_output=True, text=True
    )
    outcome, grown_mb = result.stdout.split()
    return outcome, int(grown_mb)


def test_refusing_a_6300_square_png_costs_a_few_megabytes_not_hundreds(tmp_path, png_6300):
    """Before the header check the same file took a worker to about 460 MB."""
    outcome, grown_mb = _upload_in_a_fresh_process(tmp_path, png_6300)
    assert outcome == "refused"
    assert grown_mb < 20


def test_a_png_within_the_decoding_budget_is_stored_within_a_few_tens_of_megabytes(tmp_path, settings):
    assert settings.IMAGE_MAX_DECODED_PIXELS == 12_000_000
    outcome, grown_mb = _upload_in_a_fresh_process(tmp_path, png_of(3400, 3400))  # 11.56 megapixels
    assert outcome == "stored"
    assert grown_mb < 64  # measured 46–48 MB; 25 megapixels took about 150


def test_a_png_past_the_decoding_budget_is_refused_with_a_way_out():
    from django.core.exceptions import ValidationError
    from django.core.files.base import ContentFile
    from django.utils import translation

    from brands import images

    with pytest.raises(ValidationError) as refused:
        images.normalize(ContentFile(png_of(4000, 3500), name="scan.png"), kind="cover")
    with translation.override("en"):  # the message is translated when it is read
        assert refused.value.messages == [
            "The image is 4000 × 3500 pixels; PNG and WebP images may have at most 12 megapixels. "
            "Save it as JPEG, or make it smaller."
        ]
    with translation.override("zh-hans"):
        assert refused.value.messages == [
            "图片为 4000 × 3500 像素；PNG 和 WebP 图片最多 12 百万像素。请另存为 JPEG 或缩小后再上传。"
        ]


def test_a_16_megapixel_jpeg_is_decoded_at_half_scale_and_stored():
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    from brands import images

    buffer = io.BytesIO()
    Image.new("RGB", (4000, 4000), (200, 30, 30)).save(buffer, format="JPEG")
    result = images.normalize(ContentFile(buffer.getvalue(), name="photo.jpg"), kind="photo")
    # 4000 px is less than twice the stored 2048, but 16 megapixels are past the decoding budget.
    assert Image.open(result.original).size == (2000, 2000)
