"""Site-wide pages that belong to no single app: the home page, the health check, uploaded media."""

import posixpath

import redis
from django.conf import settings
from django.db import connection
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import cache_control, never_cache
from django.views.static import serve

from brands import selectors as brand_selectors
from brands.models import Brand
from config import degraded
from organizations import rules
from organizations.models import Organization


@cache_control(public=True, max_age=86400)
def favicon(request):
    """/favicon.ico, which browsers ask for whatever the pages link: the SVG icon itself (modern browsers
    take an SVG there; a redirect to its hashed static name would be cached past the next change)."""
    return FileResponse((settings.BASE_DIR / "static" / "favicon.svg").open("rb"), content_type="image/svg+xml")


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


# Public images are named by a random stem and replaced under a new name, so caches may keep them; an
# hour bounds how long one stays cached after its brand leaves the public (revoked).
PUBLIC_MEDIA_MAX_AGE = 3600


def media(request, path):
    """An uploaded file. A name the filesystem refuses (too long, say) is a file that is not there.

    A brand's images (logo, cover, report photos) are public while the brand is; otherwise, and for a file
    no brand names, they are a 404 for anyone who may not view the brand's organization (organizations.rules).
    """
    name = posixpath.normpath(path).lstrip("/")  # as serve() resolves it: ``x/../brands/...`` is checked too
    public = True
    if name.startswith("brands/"):
        owner = brand_selectors.brand_media_owner(name=name)
        if owner is None:
            raise Http404
        status, organization_path = owner
        public = status in Brand.PUBLIC_STATUSES
        # rules.can reads only the organization's path: no second query for the organization itself.
        if not public and not rules.can(request.user, rules.Action.VIEW, Organization(path=organization_path)):
            raise Http404
    try:
        response = serve(request, path, document_root=settings.MEDIA_ROOT)
    except OSError:
        raise Http404 from None
    if public:
        patch_cache_control(response, public=True, max_age=PUBLIC_MEDIA_MAX_AGE)
    else:
        patch_cache_control(response, private=True, no_cache=True)
    return response
