"""Settings for the submit benchmark only: the product settings plus a URLconf with a bare raw-SQL view.

Throttles and integrity thresholds are relaxed through the environment that
bench/submit.py gives gunicorn, not here, so the product code path is unchanged.
"""

from config.settings.base import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"handlers": [], "level": "ERROR"}}
