"""The settings as production sets them, read in a fresh process: `check --deploy` has nothing to say,
and mail is configured by one URL."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
    "DEBUG": "false",
    "SECRET_KEY": "k7#Qz!v9$Lm2@Xp4&Rt8*Wn6^Yb3%Hc5(Jd1)Fg0-Se7+Ua2=Ko9_Ti4",
    "ALLOWED_HOSTS": "dangjian.example.cn",
    "CSRF_TRUSTED_ORIGINS": "https://dangjian.example.cn",
    "TRUSTED_PROXY_COUNT": "1",
    "SITE_URL": "https://dangjian.example.cn",
    "EMAIL_URL": "smtp+tls://notices%40example.cn:s3cret@smtp.example.cn:587",
}


def _run(code: str, **extra: str) -> subprocess.CompletedProcess:
    # Not the test run's own: its database, and the browser tests' permission to call the ORM from async code.
    test_only = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {key: value for key, value in os.environ.items() if key not in test_only}
    env.update(PRODUCTION, PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING", **extra)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def test_check_deploy_with_production_values_reports_nothing():
    result = _run(
        "import django, sys; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='WARNING')"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "System check identified no issues" in result.stdout


def test_mail_is_configured_by_one_url():
    result = _run(
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
        "s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS]))"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.cn",
        587,
        "notices@example.cn",
        "s3cret",
        True,
    ]
