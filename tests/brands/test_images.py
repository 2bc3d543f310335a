"""Uploaded images are judged by content, size and pixel count; metadata never survives."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from PIL import Image

from brands import images
from brands.models import Brand
from tests.brands.conftest import image_bytes, upload

pytestmark = pytest.mark.django_db


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares huge dimensions with almost no data: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (36.0, 4.0, 0.0), 3: "E", 4: (120.0, 23.0, 0.0)}  # GPS IFD
    return image_bytes("JPEG", size=(800, 600), exif=exif.tobytes())


def refusal(data: bytes, name: str) -> list[str]:
    with translation.override("en"):
        with pytest.raises(ValidationError) as caught:
            images.normalize(upload(name, data), kind="logo")
        return [str(message) for message in caught.value.messages]


def test_valid_jpeg_is_stored_reencoded_without_exif_and_in_display_size():
    data = jpeg_with_gps()
    assert Image.open(io.BytesIO(data)).getexif().get(0x010F) == "PhoneMaker"
    result = images.normalize(upload("photo.jpg", data), kind="logo")
    original = Image.open(io.BytesIO(result.original.read()))
    display = Image.open(io.BytesIO(result.display.read()))
    assert (original.format, original.size) == ("JPEG", (800, 600))
    assert dict(original.getexif()) == {}
    assert "exif" not in original.info
    assert (display.format, display.size) == ("JPEG", (256, 192))
    assert result.original.name.endswith(".jpg")


def test_png_renamed_jpg_is_accepted_as_the_png_it_is():
    rgba = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(rgba, format="PNG")
    result = images.normalize(upload("logo.jpg", rgba.getvalue()), kind="logo")
    stored = Image.open(io.BytesIO(result.original.read()))
    assert (stored.format, stored.mode, stored.size) == ("PNG", "RGBA", (40, 40))
    assert result.original.name.endswith(".png")


def test_text_file_renamed_png_is_refused():
    assert refusal(b"hello, this is not a picture\n", "logo.png") == ["This file is not a JPEG, PNG or WebP image."]


def test_gif_is_refused_even_though_pillow_reads_it():
    assert refusal(image_bytes("GIF"), "logo.gif") == ["This file is not a JPEG, PNG or WebP image."]


def test_oversize_file_is_refused():
    data = image_bytes("JPEG") + b"\x00" * (5 * 1024 * 1024)
    assert refusal(data, "big.jpg") == ["The file is 5.0 MB; images may be at most 5 MB."]


def test_image_over_25_megapixels_is_refused():
    assert refusal(png_header_only(8000, 6000), "wide.png") == [
        "The image is 8000 × 6000 pixels; at most 25 megapixels are accepted."
    ]


def test_decompression_bomb_is_refused():
    # 200 megapixels: past twice Pillow's MAX_IMAGE_PIXELS (IMAGE_MAX_PIXELS), so Pillow itself refuses.
    assert refusal(png_header_only(20000, 10000), "bomb.png") == ["The image has too many pixels to be processed."]


def test_truncated_jpeg_is_refused():
    assert refusal(image_bytes("JPEG")[:200], "cut.jpg") == ["This file is not a JPEG, PNG or WebP image."]


def test_webp_is_accepted():
    result = images.normalize(upload("x.webp", image_bytes("WEBP"), "image/webp"), kind="cover")
    assert Image.open(io.BytesIO(result.original.read())).format == "JPEG"


def form_post(client, logo_name, logo_data):
    return client.post(
        "/workspace/brands/new/",
        {
            "organization": client.org_pk,
            "name": "新品牌",
            "slogan": "口号",
            "concept": "理念",
            "carrier": "",
            "positioning": "",
            "service_targets": ["masses"],
            "level": "grassroots",
            "logo": upload(logo_name, logo_data),
        },
    )


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("logo.png", b"not an image", "这个文件不是 JPEG、PNG 或 WebP 图片。"),
        ("bomb.png", png_header_only(20000, 10000), "图片像素过多，无法处理。"),
    ],
)
def test_bad_logo_is_a_form_error_and_keeps_what_was_typed(client, tree, secretary, name, data, error):
    client.force_login(secretary)
    client.org_pk = tree["community"].pk
    response = form_post(client, name, data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"logo": [error]}
    assert response.context["form"]["name"].value() == "新品牌"
    assert Brand.objects.count() == 0


def test_good_logo_through_the_form_stores_original_and_small_size(client, tree, secretary):
    client.force_login(secretary)
    client.org_pk = tree["community"].pk
    response = form_post(client, "logo.jpg", jpeg_with_gps())
    brand = Brand.objects.get()
    assert response.status_code == 302
    assert Image.open(brand.logo.path).size == (800, 600)
    assert Image.open(brand.logo_small.path).size == (256, 192)
    assert dict(Image.open(brand.logo.path).getexif()) == {}


def test_a_png_with_unreadable_exif_is_kept_as_it_is_stored():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 200, 30)).save(buffer, "PNG", exif=b"garbage" * 10)
    result = images.normalize(upload("broken-exif.png", buffer.getvalue(), "image/png"), kind="logo")
    assert Image.open(io.BytesIO(result.original.read())).size == (8, 6)
