import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone
from PIL import Image

from brands.models import Brand, BrandTransition, Case, Commitment, Milestone, Plan, ProgressReport, ReportPhoto
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


# Each tenant-owned child of a brand and the path from it to its brand's organization.
CHILD_BRAND_ORGANIZATION = {
    BrandTransition: "brand__organization",
    Commitment: "brand__organization",
    Plan: "brand__organization",
    Case: "brand__organization",
    Milestone: "plan__brand__organization",
    ProgressReport: "milestone__plan__brand__organization",
    ReportPhoto: "report__milestone__plan__brand__organization",
}


def child_organization_counts() -> dict[str, tuple[int, int]]:
    """Per child model: (rows, rows whose organization is not their brand's)."""
    return {
        model.__name__: (model.objects.count(), model.objects.exclude(organization=F(path)).count())
        for model, path in CHILD_BRAND_ORGANIZATION.items()
    }


def make_programme(brand: Brand, author) -> dict:
    """One of every child row under ``brand``, created directly (no service checks) with its organization."""
    org = brand.organization_id
    plan = Plan.objects.create(brand=brand, organization_id=org, start_year=2025, end_year=2027, goals="目标")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    milestone = Milestone.objects.create(plan=plan, organization_id=org, title="节点", due_date=yesterday, weight=2)
    report = ProgressReport.objects.create(milestone=milestone, organization_id=org, author=author, text="进展")
    photo = ReportPhoto.objects.create(
        report=report, organization_id=org, image="brands/photos/x.jpg", thumbnail="brands/photos/thumbs/x.jpg"
    )
    commitment = Commitment.objects.create(brand=brand, organization_id=org, text="当天答复", position=1)
    case = Case.objects.create(
        brand=brand, organization_id=org, title="经验", summary="摘要", body="正文", author=author
    )
    return {
        "brand": brand,
        "plan": plan,
        "milestone": milestone,
        "report": report,
        "photo": photo,
        "commitment": commitment,
        "case": case,
    }
