"""The production shape, checked without Docker (no engine runs here)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_SOURCE = (ROOT / "config" / "settings" / "base.py").read_text()


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_six_services_with_health_checks():
    services = compose()["services"]
    assert sorted(services) == ["beat", "postgres", "proxy", "redis", "web", "worker"]
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert services["beat"]["deploy"]["replicas"] == 1


def test_commands_run_the_right_processes():
    services = compose()["services"]
    web = " ".join(services["web"]["command"])
    assert "manage.py migrate --noinput" in web
    assert "gunicorn config.wsgi:application" in web
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert "--scale" not in web


def test_app_environment_matches_the_settings_variables():
    services = compose()["services"]
    read_by_settings = set(re.findall(r'env(?:\.\w+)?\("([A-Z_]+)"', SETTINGS_SOURCE))
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert set(environment) <= read_by_settings, name
        assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "TRUSTED_PROXY_COUNT"} <= set(
            environment
        )
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["DATABASE_URL"].endswith("@postgres:5432/portal")
        assert environment["REDIS_URL"] == "redis://redis:6379/0"


def test_volumes_keep_the_database_and_media():
    data = compose()
    assert set(data["volumes"]) == {"pgdata", "redis", "media"}
    assert "pgdata:/var/lib/postgresql/data" in data["services"]["postgres"]["volumes"]
    assert "media:/app/media" in data["services"]["web"]["volumes"]
    assert data["services"]["web"]["environment"]["MEDIA_ROOT"] == "/app/media"


def test_dockerfile_builds_the_app_image():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert 'CMD ["gunicorn", "config.wsgi:application"' in dockerfile
