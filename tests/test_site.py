"""Site-wide behaviour: settings, languages, health check, admin, demo data."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError
from django.test import override_settings

from organizations.models import Membership, Organization, User

ROOT = Path(__file__).resolve().parent.parent


def test_with_no_environment_the_site_uses_sqlite_eager_tasks_and_local_cache():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; from config.celery import app;"
        "print(json.dumps([s.DATABASES['default']['ENGINE'], str(s.DATABASES['default']['NAME']),"
        " s.DATABASES['default']['OPTIONS']['init_command'], app.conf.task_always_eager,"
        " app.conf.task_eager_propagates, s.CACHES['default']['BACKEND'], s.LANGUAGE_CODE, s.TIME_ZONE, s.DEBUG]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        "django.db.backends.sqlite3",
        str(ROOT / "db.sqlite3"),
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        True,
        True,
        "django.core.cache.backends.locmem.LocMemCache",
        "zh-hans",
        "Asia/Shanghai",
        False,
    ]


def test_with_redis_url_celery_and_cache_use_redis():
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.base", REDIS_URL="redis://127.0.0.1:6379/3")
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; from config.celery import app;"
        "print(json.dumps([app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager,"
        " s.CACHES['default']['BACKEND']]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        "redis://127.0.0.1:6379/3",
        "redis://127.0.0.1:6379/3",
        False,
        "config.cache.FailOpenRedisCache",
    ]


@pytest.mark.django_db
def test_home_page_is_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="zh-hans">' in body
    assert "党建品牌" in body


@pytest.mark.django_db
def test_language_switch_renders_the_home_page_in_english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    body = client.get("/").content.decode()
    assert '<html lang="en">' in body
    assert "Party-building brands, judged by the people they serve" in body


def test_every_message_has_a_chinese_translation_and_is_compiled():
    po_path = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    catalog = polib.pofile(str(po_path))
    missing = [entry.msgid for entry in catalog if not entry.obsolete and (not entry.translated() or entry.fuzzy)]
    assert missing == []
    compiled = polib.mofile(str(po_path.with_suffix(".mo")))
    compiled_map = {(entry.msgctxt, entry.msgid): entry.msgstr for entry in compiled}
    stale = [
        entry.msgid
        for entry in catalog.translated_entries()
        if not entry.msgid_plural and compiled_map.get((entry.msgctxt, entry.msgid)) != entry.msgstr
    ]
    assert stale == []


@pytest.mark.django_db
def test_healthz_reports_database_and_unconfigured_redis(client):
    with override_settings(REDIS_URL=""):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "mode": "normal", "database": "ok", "redis": "not configured"}


@pytest.mark.django_db
def test_healthz_is_200_degraded_when_redis_is_unreachable(client):
    # The site still serves without Redis (tests/test_redis_down.py): degraded, not down.
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "mode": "degraded",
        "database": "ok",
        "redis": "error: ConnectionError",
    }


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down(client):
    down = mock.patch("config.views.connection.cursor", side_effect=OperationalError("gone"))
    with down, override_settings(REDIS_URL=""):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "mode": "normal",
        "database": "error: OperationalError",
        "redis": "not configured",
    }


@pytest.mark.django_db
def test_healthz_reports_live_redis_when_configured(client):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    assert client.get("/healthz").json() == {"status": "ok", "mode": "normal", "database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_login_page_and_login(client, secretary):
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "secretary", "password": "pass12345"})
    assert response.status_code == 302
    assert client.get("/").context["user"].username == "secretary"


@pytest.mark.django_db
def test_admin_is_reachable_by_superuser_only(client, secretary):
    client.force_login(secretary)
    assert client.get("/admin/organizations/organization/").status_code == 302
    admin = User.objects.create_superuser("root", "root@example.org", "pass12345")
    client.force_login(admin)
    assert client.get("/admin/organizations/organization/").status_code == 200
    assert client.get("/admin/organizations/membership/").status_code == 200


@pytest.mark.django_db
def test_api_docs_are_served_from_local_assets(client):
    assert client.get("/api/schema/").status_code == 200
    body = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in body
    assert "cdn" not in body.lower()


@pytest.mark.django_db
def test_seed_demo_twice_gives_the_same_rows():
    call_command("seed_demo", stdout=io.StringIO())
    first = (Organization.objects.count(), User.objects.count(), Membership.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Organization.objects.count(), User.objects.count(), Membership.objects.count()) == first
    assert first[0] >= 40
    assert Organization.objects.values("domain").distinct().count() >= 5
    assert set(User.objects.values_list("username", flat=True)) >= {
        "admin",
        "reviewer",
        "district_reviewer",
        "secretary",
        "secretary2",
    }
    district = Organization.objects.get(name="中共青岛市市北区委员会")
    community = Organization.objects.get(memberships__user__username="secretary")
    assert community.path.startswith(district.path)
    haorun = Organization.objects.get(memberships__user__username="secretary2")
    assert not haorun.path.startswith(district.path)
    assert User.objects.get(username="reviewer").check_password("demo12345")


@pytest.mark.django_db
def test_a_media_name_the_filesystem_refuses_is_a_404(client):
    assert client.get("/media/" + "a" * 300).status_code == 404
    assert client.get("/media/brands/logos/missing.jpg").status_code == 404
