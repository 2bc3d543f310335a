"""Uploaded images of brands that are not public are served only to those who may view their organization."""

import datetime
import io

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from brands import images, services
from brands.models import Brand
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db

NOT_PUBLIC = ["draft", "submitted", "returned", "revoked"]
PUBLIC = ["cultivating", "named", "demonstration"]


def picture() -> images.NormalizedImage:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(buffer, "JPEG")
    return images.normalize(ContentFile(buffer.getvalue(), name="p.jpg"), kind="photo")


@pytest.fixture
def brand_files(tree, secretary):
    """A brand of 华阳路社区党委 with a logo, a cover and a report photo; the URLs of all six files."""
    brand = BrandFactory(organization=tree["community"], code="RED234")
    services.brand_update(user=secretary, brand=brand, data={}, logo=picture(), cover=picture())
    services.plan_save(user=secretary, brand=brand, start_year=2026, end_year=2027, goals="目标")
    milestone = services.milestone_add(user=secretary, brand=brand, title="第一步", due_date=datetime.date(2026, 6, 1))
    report = services.progress_report_add(user=secretary, milestone=milestone, text="进展", photos=[picture()])
    brand.refresh_from_db()
    photo = report.photos.get()
    files = [brand.logo, brand.logo_small, brand.cover, brand.cover_medium, photo.image, photo.thumbnail]
    assert all(file.name for file in files)
    return brand, [file.url for file in files]


def set_status(brand: Brand, status: str) -> None:
    Brand.objects.filter(pk=brand.pk).update(status=status)


def answers(client, urls) -> set[int]:
    return {client.get(url).status_code for url in urls}


@pytest.mark.parametrize("status", NOT_PUBLIC)
def test_images_of_a_brand_not_public_are_404_for_the_public_and_outsiders(
    client, brand_files, status, outsider, other_secretary
):
    brand, urls = brand_files
    set_status(brand, status)
    assert answers(client, urls) == {404}
    for user in (outsider, other_secretary):
        client.force_login(user)
        assert answers(client, urls) == {404}


@pytest.mark.parametrize("status", NOT_PUBLIC)
def test_images_of_a_brand_not_public_are_served_privately_to_its_organization_and_above(
    client, brand_files, status, secretary, district_reviewer, city_reviewer
):
    brand, urls = brand_files
    set_status(brand, status)
    for user in (secretary, district_reviewer, city_reviewer):
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert (response.status_code, response["Cache-Control"]) == (200, "private, no-cache")


@pytest.mark.parametrize("status", PUBLIC)
def test_images_of_a_public_brand_are_public_and_cacheable(client, brand_files, status):
    brand, urls = brand_files
    set_status(brand, status)
    for url in urls:
        response = client.get(url)
        assert (response.status_code, response["Cache-Control"]) == (200, "public, max-age=3600")


def test_one_query_decides_an_anonymous_request(client, brand_files):
    brand, urls = brand_files
    for status, expected in (("draft", 404), ("named", 200)):
        set_status(brand, status)
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == expected
            assert len(queries) == 1


def test_a_file_under_brands_that_no_brand_names_is_404(client, brand_files, settings):
    brand, urls = brand_files
    set_status(brand, "named")
    stray = settings.MEDIA_ROOT / "brands" / "logos" / "stray.jpg"
    stray.write_bytes(b"old logo")
    assert client.get("/media/brands/logos/stray.jpg").status_code == 404


def test_a_dotted_path_is_checked_as_the_file_it_reaches(client, brand_files):
    brand, urls = brand_files
    set_status(brand, "draft")
    logo = urls[0].removeprefix("/media/")
    assert client.get(f"/media/x/../{logo}").status_code == 404
    assert client.get(f"/media/brands/covers/../../{logo}").status_code == 404


def test_the_favicon_is_linked_and_served(client):
    icon = client.get("/favicon.ico")
    assert (icon.status_code, icon["Content-Type"], icon["Cache-Control"]) == (
        200,
        "image/svg+xml",
        "public, max-age=86400",
    )
    assert b"".join(icon.streaming_content).startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in client.get("/").content.decode()
