"""make backup / make restore: a round trip brings back a deleted brand and its uploaded file."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from brands.models import Brand
from config import backup
from tests.factories import BrandFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_a_deleted_brand_and_its_logo(tree, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    brand = BrandFactory(organization=tree["community"], code="RED234", name="红色家园")
    brand.logo.save("logo.png", ContentFile(b"\x89PNG logo bytes"), save=True)
    logo = Path(brand.logo.path)
    database, media_root = connection.settings_dict, Path(settings.MEDIA_ROOT)

    target = backup.backup(database=database, connection=connection, media_root=media_root, target=tmp_path / "b" / "1")
    expected = {backup.MEDIA_ARCHIVE, backup.PG_DUMP if connection.vendor == "postgresql" else backup.SQLITE_COPY}
    assert {path.name for path in target.iterdir()} == expected

    Brand.objects.filter(pk=brand.pk).delete()
    logo.unlink()
    BrandFactory(organization=tree["community"], code="NEW999", name="备份之后")

    backup.restore(database=database, connection=connection, media_root=media_root, source=target)
    restored = Brand.objects.get()
    assert (restored.pk, restored.code, restored.name, restored.logo.name) == (
        brand.pk,
        "RED234",
        "红色家园",
        brand.logo.name,
    )
    assert logo.read_bytes() == b"\x89PNG logo bytes"


def test_restore_without_from_says_how(tmp_path):
    result = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "restore"], cwd=ROOT, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout.strip()) == (2, "usage: make restore FROM=backups/<timestamp>")


def test_the_command_line_refuses_a_directory_that_is_not_a_backup(tmp_path):
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "config.backup", "restore", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith("not found (a SQLite backup has one)")
