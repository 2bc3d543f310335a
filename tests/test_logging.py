"""Logs are one JSON object per line without DEBUG (LOG_FORMAT=json), plain text with it."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory

from config.logging import JsonFormatter

ROOT = Path(__file__).resolve().parent.parent


def record(name="brands", level=logging.WARNING, message="品牌 %s 已提交", args=("RED234",), **extra):
    entry = logging.LogRecord(name, level, __file__, 10, message, args, None)
    entry.__dict__.update(extra)
    return entry


def test_a_record_renders_as_one_line_of_json():
    line = JsonFormatter().format(record(created_by="secretary"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry.pop("timestamp").endswith("+00:00")
    assert entry == {"level": "WARNING", "logger": "brands", "message": "品牌 RED234 已提交", "created_by": "secretary"}


def test_a_request_log_carries_method_path_and_status():
    request = RequestFactory().get("/b/RED234/")
    line = JsonFormatter().format(
        record("django.request", message="Not Found: %s", args=("/b/RED234/",), request=request, status_code=404)
    )
    entry = json.loads(line)
    del entry["timestamp"]
    assert entry == {
        "level": "WARNING",
        "logger": "django.request",
        "message": "Not Found: /b/RED234/",
        "method": "GET",
        "path": "/b/RED234/",
        "status": 404,
    }


def test_a_traceback_stays_inside_the_line():
    try:
        raise ValueError("boom")
    except ValueError:
        entry = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    parsed = json.loads(JsonFormatter().format(entry))
    assert parsed["exception"].startswith("Traceback") and parsed["exception"].endswith("ValueError: boom")


LOG_ONE = "import django, logging; django.setup(); logging.getLogger('brands').warning('hello %s', 'world')"


@pytest.mark.parametrize(
    ("environment", "is_json"),
    [({"DEBUG": "false"}, True), ({"DEBUG": "true"}, False), ({"DEBUG": "false", "LOG_FORMAT": "text"}, False)],
)
def test_the_format_follows_debug_unless_log_format_says(environment, is_json):
    env = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "DATABASE_URL", "REDIS_URL")}
    env.update(environment, DJANGO_SETTINGS_MODULE="config.settings.base", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", LOG_ONE], cwd=ROOT, env=env, capture_output=True, text=True)
    line = [line for line in result.stderr.splitlines() if "hello world" in line][-1]
    if is_json:
        entry = json.loads(line)
        assert (entry["level"], entry["logger"], entry["message"]) == ("WARNING", "brands", "hello world")
    else:
        assert line.endswith("WARNING brands: hello world")
