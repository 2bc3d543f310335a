"""Settings for the submit benchmark only: the product settings plus the bench URLconf (`bench/urls.py`).

Nothing here relaxes a throttle or an integrity check: bench/submit.py runs the product's defaults and
spreads client addresses the way a proxy would (TRUSTED_PROXY_COUNT=1 and X-Forwarded-For, set in the
environment it gives gunicorn). Only the static root (a temporary collectstatic, so the work tree is left
alone) and logging differ: errors, and the Redis fail-open warnings (degraded mode), go to stderr, which
bench/submit.py reads after the run.
"""

import os

from config.settings.base import *  # noqa: F401,F403
from config.settings.base import STATIC_ROOT

ROOT_URLCONF = "bench.urls"
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "ERROR"},
    "loggers": {"config.redis": {"level": "WARNING"}},
}
