"""Site-wide pages that belong to no single app: the home page and the health check."""

import redis
from django.conf import settings
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.static import serve

from config import degraded


def home(request):
    return render(request, "home.html")


@never_cache
def healthz(request):
    """Database and Redis status, and whether this process runs in degraded mode.

    200 while the site serves: status "ok", or "degraded" when Redis is down or hung or this process has
    fallen back from it lately (pages, ratings and rankings go on without Redis: README, "When Redis is
    down"); ``degraded`` then says which part (cache, broker) failed, since when and why. 503 only when
    the database is down: nothing works without it. The Redis ping uses the short ``REDIS_TIMEOUT_SECONDS``.
    """
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "down"
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        timeout = settings.REDIS_TIMEOUT_SECONDS
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            client.ping()
            checks["redis"] = "ok"
            degraded.retry_now()
        except Exception as exc:  # connection refused, timeout, auth
            checks["redis"] = f"error: {exc.__class__.__name__}"
        finally:
            client.close()
    else:
        checks["redis"] = "not configured"
    troubles = degraded.report()
    is_degraded = bool(troubles) or checks["redis"] not in ("ok", "not configured")
    body = {"mode": "degraded" if is_degraded else "normal", **checks}
    if troubles:
        body["degraded"] = troubles
    if checks["database"] != "ok":
        return JsonResponse({"status": "error", **body}, status=503)
    return JsonResponse({"status": "degraded" if is_degraded else "ok", **body})


def media(request, path):
    """An uploaded file. A name the filesystem refuses (too long, say) is a file that is not there."""
    try:
        return serve(request, path, document_root=settings.MEDIA_ROOT)
    except OSError:
        raise Http404 from None
