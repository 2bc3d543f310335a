import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from brands.models import Brand
from tests.factories import BrandFactory


def image_bytes(fmt: str = "JPEG", size=(64, 48), color=(200, 30, 30), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def community_brand(tree):
    """A draft brand of 华阳路社区党委 (市北区, managed by ``secretary``)."""
    return BrandFactory(organization=tree["community"], name="红色家园", code="RED234")


@pytest.fixture
def enterprise_brand(tree):
    """A draft brand of 海润自来水集团党委 (managed by ``other_secretary``, not under 市北区)."""
    return BrandFactory(organization=tree["enterprise"], name="海润先锋", code="HRX567")


def set_status(brand: Brand, status: str) -> Brand:
    Brand.objects.filter(pk=brand.pk).update(status=status)
    brand.refresh_from_db()
    return brand
