"""Standing fixtures: a small tree with two tenants, their secretaries, reviewers and an outsider.

city (中共青岛市委)                      ← city_reviewer
├── district (市北区委)                  ← district_reviewer
│   └── community (华阳路社区党委)       ← secretary
│       └── grid (第一网格党支部)
└── enterprise (海润自来水集团党委)      ← other_secretary
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from organizations.models import Membership, Organization
from tests.factories import UserFactory, grant, make_organization

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Throttles and locks live in the cache; no test may see another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tree(db):
    city = make_organization(
        "中共青岛市委员会", level=Organization.Level.CITY_COMMITTEE, domain="organ", region="青岛市"
    )
    district = make_organization(
        "中共青岛市市北区委员会", city, level=Organization.Level.DISTRICT_COMMITTEE, domain="organ"
    )
    community = make_organization("华阳路社区党委", district)
    grid = make_organization("华阳路第一网格党支部", community, level=Organization.Level.BRANCH)
    enterprise = make_organization(
        "海润自来水集团党委", city, domain=Organization.Domain.STATE_ENTERPRISE, region="青岛市"
    )
    return {
        "city": Organization.objects.get(pk=city.pk),
        "district": Organization.objects.get(pk=district.pk),
        "community": Organization.objects.get(pk=community.pk),
        "grid": Organization.objects.get(pk=grid.pk),
        "enterprise": Organization.objects.get(pk=enterprise.pk),
    }


@pytest.fixture
def secretary(tree):
    user = UserFactory(username="secretary")
    grant(user, tree["community"], Membership.Role.SECRETARY)
    return user


@pytest.fixture
def other_secretary(tree):
    user = UserFactory(username="secretary2")
    grant(user, tree["enterprise"], Membership.Role.SECRETARY)
    return user


@pytest.fixture
def district_reviewer(tree):
    user = UserFactory(username="district_reviewer")
    grant(user, tree["district"], Membership.Role.REVIEWER)
    return user


@pytest.fixture
def city_reviewer(tree):
    user = UserFactory(username="reviewer")
    grant(user, tree["city"], Membership.Role.REVIEWER)
    return user


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


# --- Browser tests ---------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright; skipped (or failed under CI) where it is missing."""
    required = os.environ.get("REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements.txt
        sync_playwright = None
    if sync_playwright is None or not os.path.exists(CHROMIUM):
        message = f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install -y chromium fonts-wqy-microhei)"
        if required:
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # refuses to run under one unless told that this is deliberate.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def screenshot():
    """``screenshot(page, name)`` saves a full-page PNG under test-artifacts/."""

    def take(page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# --- A real Celery worker ----------------------------------------------------


def database_url_for_worker() -> str:
    """The URL of the database the tests are using right now (the test database)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("a real worker needs PostgreSQL")
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def celery_worker_process():
    """Start ``celery worker`` against Redis and the test database; stop it afterwards.

    Tests using it need ``transactional_db`` so the worker sees committed rows,
    and should switch eagerness off with ``celery_app.conf.task_always_eager = False``.
    """
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (runs in the PostgreSQL + Redis pass of CI)")
    from config.celery import app as celery_app

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.base", REDIS_URL=settings.REDIS_URL)
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        env["DATABASE_URL"] = database_url_for_worker()
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    process = subprocess.Popen(
        [
            celery,
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("celery worker exited: " + (process.stdout.read() if process.stdout else ""))
            if celery_app.control.ping(timeout=0.5):
                break
        else:
            raise RuntimeError("celery worker did not answer within 30 s")
        yield process
    finally:
        celery_app.conf.task_always_eager = was_eager
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
