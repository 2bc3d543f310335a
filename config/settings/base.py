"""Settings for every environment.

Production differs from development by environment values only: DATABASE_URL,
REDIS_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, TRUSTED_PROXY_COUNT and the
tunables below. With nothing set, the site runs on a SQLite file with Celery
tasks executed eagerly and a local-memory cache.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies in front of the app append to X-Forwarded-For.
# 0 means the client address is REMOTE_ADDR and the header is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "axes",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "treebeard",
    "organizations",
    "brands",
    "evaluations",
    "scores",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.middleware.RejectControlCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A service's refusal no view caught: its page, with the status config.errors maps it to.
    "config.middleware.ApplicationErrorMiddleware",
    # Last: it turns a lockout noticed during the login into the lockout page or answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer commits; IMMEDIATE transactions
    # take the write lock up front instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, results and cache ------------------------------
REDIS_URL = env("REDIS_URL", default="")
# Every Redis call (cache, broker, results, /healthz) gives up after this long, to connect and for each
# reply: a Redis that is down or hung costs a request tens of milliseconds, then degraded mode takes over
# (README, "When Redis is down or hung"): the cache serves from a per-process fallback (config.cache), a task
# that cannot be enqueued is left to the beat's jobs (config.tasks).
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=0.05)
# After a failure, Redis is tried again this much later; calls in between use the fallback directly.
REDIS_RETRY_AFTER_SECONDS = env.float("REDIS_RETRY_AFTER_SECONDS", default=5.0)
# In degraded mode each process counts rating throttles alone; a count seen by one process stands for
# this many (the gunicorn workers in docker-compose.yml), see evaluations.integrity. 1 turns it off.
EVALUATION_DEGRADED_PROCESSES = env.int("EVALUATION_DEGRADED_PROCESSES", default=3)
_redis_timeouts = {"socket_timeout": REDIS_TIMEOUT_SECONDS, "socket_connect_timeout": REDIS_TIMEOUT_SECONDS}

if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": REDIS_URL, "OPTIONS": _redis_timeouts}
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = None
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing: one connection attempt with the short timeouts, one immediate retry (a pooled connection
# that Redis closed when it restarted), then the error goes to config.tasks.enqueue.
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {**_redis_timeouts, "max_retries": 1, "interval_start": 0, "interval_step": 0}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": CELERY_TASK_PUBLISH_RETRY_POLICY}
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_BEAT_SCHEDULE: dict = {
    # The notice outbox (organizations.services): retries that are due, and notices whose task was lost
    # (broker down during the request, Redis restarted, a worker killed) go out from here.
    "notices-deliver-due": {"task": "organizations.notices_deliver_due", "schedule": 60.0},
    "notices-send-digest": {"task": "organizations.notices_send_digest", "schedule": crontab(hour=17, minute=30)},
}

# --- Auth -----------------------------------------------------------------
AUTH_USER_MODEL = "organizations.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Axes first: it refuses a locked-out username and address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalization -------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
# Uploaded images (brands.images): more pixels than this are refused from the file's header, before
# decoding. Pillow's own decompression-bomb limit (Image.MAX_IMAGE_PIXELS) is set to the same value.
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=25_000_000)
# …and no more than this many are decoded: decoding takes 3 to 4 bytes a pixel, so one upload stays
# within about 50 MB. A large JPEG decodes at 1/2, 1/4 or 1/8 scale and passes; a PNG or WebP cannot.
IMAGE_MAX_DECODED_PIXELS = env.int("IMAGE_MAX_DECODED_PIXELS", default=12_000_000)

# --- Forms ----------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organizations.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Party-building brand portal API",
    "DESCRIPTION": "Brands, public evaluations, rectifications and rankings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Mail -----------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Production mail in one variable, e.g. smtp+tls://user:password@smtp.example.cn:587 (django-environ's
# schemes: smtp, smtp+tls, smtp+ssl, consolemail, filemail, memorymail, dummymail): backend, host, port,
# user, password and TLS at once. It wins over EMAIL_BACKEND.
if env("EMAIL_URL", default=""):
    vars().update({key: value for key, value in env.email_url("EMAIL_URL").items() if value not in (None, "")})
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="portal@localhost")
# Seconds a mail server may take to answer; well under NOTICE_LEASE_SECONDS.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)


def _default_site_url(hosts: list[str]) -> str:
    """https://<the first ALLOWED_HOSTS entry> when it is a real host name, else the development server."""
    host = next((h for h in hosts if h not in ("*", "localhost", "127.0.0.1", "testserver") and "*" not in h), "")
    return f"https://{host.lstrip('.')}" if host else "http://127.0.0.1:8000"


# The site's address as people reach it (scheme and host, no trailing slash). Posters print it when it is
# set, else the address of the request that draws them. Mails have no request: every link in a mail is
# absolute on SITE_URL, or while it is unset on SITE_URL_DEFAULT (https:// and the first ALLOWED_HOSTS entry
# that is a real host name, else the development server). Set it in production.
SITE_URL = env("SITE_URL", default="")
SITE_URL_DEFAULT = _default_site_url(ALLOWED_HOSTS)
# The notice outbox (organizations.services): a mail that fails is tried again after NOTICE_RETRY_SECONDS,
# doubling each time up to NOTICE_RETRY_MAX_SECONDS, at most NOTICE_MAX_ATTEMPTS times in all; then the notice
# is marked failed. A worker sending a notice holds it for NOTICE_LEASE_SECONDS.
NOTICE_MAX_ATTEMPTS = env.int("NOTICE_MAX_ATTEMPTS", default=8)
NOTICE_RETRY_SECONDS = env.int("NOTICE_RETRY_SECONDS", default=60)
NOTICE_RETRY_MAX_SECONDS = env.int("NOTICE_RETRY_MAX_SECONDS", default=6 * 3600)
NOTICE_LEASE_SECONDS = env.int("NOTICE_LEASE_SECONDS", default=300)
# A person who already got this many mails today gets the rest in the next daily digest.
NOTIFICATION_DIGEST_THRESHOLD = env.int("NOTIFICATION_DIGEST_THRESHOLD", default=3)

# --- Security (README, "Security") -------------------------------------------
# Production (DEBUG off) assumes HTTPS in front: secure cookies and HSTS by default; a plain-HTTP
# intranet sets SESSION_COOKIE_SECURE=false and CSRF_COOKIE_SECURE=false.
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# Sent on HTTPS responses only (browsers ignore it over HTTP). Subdomains and preload are opt-in: they
# bind every other host of the domain, which the portal does not own.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind the proxy the redirect to HTTPS belongs to whatever terminates TLS in front of it: Django sees
# the scheme only through X-Forwarded-Proto, and a TLS terminator that speaks plain HTTP to nginx would
# make a redirect here loop. Without a proxy set it where gunicorn faces clients over TLS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container's health check speaks plain HTTP to gunicorn
SILENCED_SYSTEM_CHECKS = [
    # The opt-ins above, left off on purpose (check --deploy asks for both).
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    # Behind a trusted proxy the redirect is the TLS terminator's job (above).
    *([] if SECURE_SSL_REDIRECT or not TRUSTED_PROXY_COUNT else ["security.W008"]),
]
# Content-Security-Policy (django-csp): everything is served from this origin, nothing inline. The rating
# form's proof-of-work widget (static/vendor/altcha) solves in a Web Worker it starts from a blob: URL;
# its stylesheet is a static file (rate_form.html). Charts are SVG with their styles in static CSS.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Failed logins (django-axes), on the login page and the API's token endpoint: after AXES_FAILURE_LIMIT
# failures for one username from one address, that pair is refused for AXES_COOLOFF_MINUTES (each further
# try restarts the wait). The pair, not the username alone, so that nobody can lock a secretary out from
# elsewhere by typing her name; not the address alone, so that an office behind one NAT address is not
# locked out by one colleague. The address is the one the rating throttles trust (TRUSTED_PROXY_COUNT).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "evaluations.integrity.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "organizations.authentication.lockout_response"
# API tokens (organizations.authentication): each login makes one, valid this long; logout and a new
# password end it sooner.
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=24 * 7)

# One JSON object per line (config.logging) for a log collector; plain text while developing.
LOG_FORMAT = env("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # runserver's access log, in the same format (Django gives it a handler of its own).
    "loggers": {"django.server": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# --- Brands (issue 3) --------------------------------------------------------
# Brand and organization both have a "level" choice set; name the schema enums explicitly.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    **SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES", {}),
    "BrandLevelEnum": "brands.models.Brand.Level",
    "BrandStatusEnum": "brands.models.Brand.Status",
    "OrganizationLevelEnum": "organizations.models.Organization.Level",
}

# --- Evaluations: integrity, rectifications, notifications (issue 4) -------
from celery.schedules import crontab as _crontab  # noqa: E402

# Salt of the device-cookie and rating-code hashes; rotate only together with a purge of old hashes.
EVALUATION_HASH_SALT = env("EVALUATION_HASH_SALT", default=SECRET_KEY)
# Client addresses are hashed with a random secret of the day (organizations.DailyHashKey, made on the
# first rating of the day), deleted after this many days, and with this optional pepper from the environment.
EVALUATION_IP_KEY_DAYS = env.int("EVALUATION_IP_KEY_DAYS", default=2)
EVALUATION_IP_SALT = env("EVALUATION_IP_SALT", default="")
# Throttles (429): submissions per client IP per brand and per client IP overall, in one window (seconds).
# They stop abuse of the server only: a busy community behind one address (community Wi-Fi, carrier NAT)
# stays well below them; its ratings are stored and, past the network limit below, held for review.
EVALUATION_THROTTLE_IP_BRAND = env.int("EVALUATION_THROTTLE_IP_BRAND", default=120)
EVALUATION_THROTTLE_IP = env.int("EVALUATION_THROTTLE_IP", default=300)
EVALUATION_THROTTLE_WINDOW = env.int("EVALUATION_THROTTLE_WINDOW", default=3600)
# After this many submissions from one IP in the window, a proof-of-work is asked for; a rating sent
# without one (no JavaScript) is stored and held for review, never refused.
EVALUATION_POW_SOFT_LIMIT = env.int("EVALUATION_POW_SOFT_LIMIT", default=3)
EVALUATION_POW_MAX_NUMBER = env.int("EVALUATION_POW_MAX_NUMBER", default=50000)
# The form is flagged when sent back sooner than this after it was shown.
EVALUATION_MIN_FILL_SECONDS = env.int("EVALUATION_MIN_FILL_SECONDS", default=3)
# Network limit: past this many unverified ratings of one brand from one network (/24, /48) in the window
# (a day), the rest are held for review. Ratings with a code are not limited.
EVALUATION_BURST_LIMIT = env.int("EVALUATION_BURST_LIMIT", default=5)
EVALUATION_BURST_WINDOW = env.int("EVALUATION_BURST_WINDOW", default=24 * 3600)
# Rating codes (一次一评): how many one batch may hold, how long they are valid by default and at most.
RATING_CODE_BATCH_MAX = env.int("RATING_CODE_BATCH_MAX", default=200)
RATING_CODE_VALID_DAYS = env.int("RATING_CODE_VALID_DAYS", default=30)
RATING_CODE_MAX_DAYS = env.int("RATING_CODE_MAX_DAYS", default=180)
# Surge holds (evaluations/surges.py): a brand's unverified ratings in one day past the count that its
# expected daily rate (own history over SURGE_HISTORY_DAYS, peers' median, at least SURGE_MIN_DAILY) would
# reach with probability SURGE_ALPHA, in the day or in the week, and past SURGE_MIN_COUNT, are held until a
# reviewer decides.
SURGE_HISTORY_DAYS = env.int("SURGE_HISTORY_DAYS", default=28)
# The second window: the last this many days, today included (catches the stuffer who goes slowly).
SURGE_WEEK_DAYS = env.int("SURGE_WEEK_DAYS", default=7)
SURGE_MIN_DAILY = env.float("SURGE_MIN_DAILY", default=1.0)
SURGE_ALPHA = env.float("SURGE_ALPHA", default=1e-4)
SURGE_MIN_COUNT = env.int("SURGE_MIN_COUNT", default=5)
# Comments containing any of these words are held for moderation with a reason.
EVALUATION_HOLD_WORDS = env.list("EVALUATION_HOLD_WORDS", default=["傻", "骗子", "垃圾", "滚", "http://", "https://"])
RECTIFICATION_DUE_WORKING_DAYS = env.int("RECTIFICATION_DUE_WORKING_DAYS", default=5)
RECTIFICATION_CONTACT_WORKING_DAYS = env.int("RECTIFICATION_CONTACT_WORKING_DAYS", default=1)
# Public holidays (ISO dates) skipped when counting working days, besides weekends.
RECTIFICATION_HOLIDAYS = env.list("RECTIFICATION_HOLIDAYS", default=[])
CELERY_BEAT_SCHEDULE.update(
    {
        "rectifications-mark-overdue": {"task": "evaluations.rectifications_mark_overdue", "schedule": 900.0},
        "rectifications-remind-due": {
            "task": "evaluations.rectifications_remind_due",
            "schedule": _crontab(hour=9, minute=0),
        },
    }
)
# One name for the 5-grade scale in the API schema (overall, management, service, quality).
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["GradeEnum"] = "evaluations.models.Grade.choices"

# --- Scores and rankings (scores) -------------------------------------------
# Bayesian prior weight m: a brand's score is (v·R + m·C)/(v + m). Unset: m is estimated per period and
# rater group from its cells (one-way random effects), within the bounds below.
SCORE_PRIOR_WEIGHT = env.float("SCORE_PRIOR_WEIGHT", default=None)
SCORE_PRIOR_WEIGHT_MIN = env.float("SCORE_PRIOR_WEIGHT_MIN", default=1.0)
SCORE_PRIOR_WEIGHT_MAX = env.float("SCORE_PRIOR_WEIGHT_MAX", default=500.0)
# Below this many counted ratings a brand is listed as "not enough ratings": no score, no rank.
SCORE_MIN_RATINGS = env.int("SCORE_MIN_RATINGS", default=5)
# The incremental fold re-reads ratings created this recently, so an id that commits late is not missed.
SCORE_OVERLAP_SECONDS = env.int("SCORE_OVERLAP_SECONDS", default=60)
# A submission asks for a fold this many seconds later; requests in between share that one job.
SCORE_REFRESH_DELAY_SECONDS = env.int("SCORE_REFRESH_DELAY_SECONDS", default=3)
# ...but no sooner than this many seconds after the previous fold started.
SCORE_REFRESH_MIN_INTERVAL_SECONDS = env.int("SCORE_REFRESH_MIN_INTERVAL_SECONDS", default=20)
CELERY_BEAT_SCHEDULE.update(
    {
        "scores-fold": {"task": "scores.fold", "schedule": 30.0},
        "scores-recompute-nightly": {
            "task": "scores.recompute",
            "schedule": crontab(hour=3, minute=30),
        },
    }
)

# --- Dashboards: precomputed figures, early warnings (后进帮扶) -------------------------------------
# Warning rules (dashboards.services.warnings_evaluate), evaluated with the figures every hour:
# a ranked brand in the bottom share of its domain's ranking in each of the last two complete months;
WARNING_BOTTOM_SHARE = env.float("WARNING_BOTTOM_SHARE", default=0.1)
# the last complete month's mean grade below the three months before by more than this many standard
# errors (one-sided 1%), each side with at least WARNING_FALL_MIN_RATINGS ratings;
WARNING_FALL_Z = env.float("WARNING_FALL_Z", default=2.33)
WARNING_FALL_MIN_RATINGS = env.int("WARNING_FALL_MIN_RATINGS", default=10)
# at least this many overdue rectifications, or overdue plan milestones;
WARNING_OVERDUE_RECTIFICATIONS = env.int("WARNING_OVERDUE_RECTIFICATIONS", default=2)
WARNING_OVERDUE_MILESTONES = env.int("WARNING_OVERDUE_MILESTONES", default=2)
# no rating at all for this many days.
WARNING_SILENT_DAYS = env.int("WARNING_SILENT_DAYS", default=30)
CELERY_BEAT_SCHEDULE.update(
    {"dashboards-refresh": {"task": "dashboards.refresh", "schedule": crontab(minute=15)}},
)
