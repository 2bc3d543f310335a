"""Rendered public pages for anonymous readers, cached and keyed by everything they show.

A page that citizens read far more often than anything on it changes (``/b/<code>/``, ``/brands/``,
``/rankings/``) is rendered once and then served from the cache. Its key holds the full path with its
query, the language, the day (plans fall overdue at midnight) and a token per *topic* the page shows:
``brands`` (any brand's content or status, its plan, commitments, cases), ``comments`` (published
comments), ``organizations`` (names, domains, the tree: the admin) and ``scores`` (score cells). The
app that changes a topic calls ``changed(topic)``; that deletes the token (now and again after the
commit), so the next read renders afresh. Each app bumps its own topic without knowing the pages: this
module is beneath every app.

Only anonymous GET and HEAD requests with no pending messages are served from the cache, and only
200 answers are stored. The page's CSRF tokens (the language switch is a POST form) are stored as a
placeholder and each answer gets the reader's own token, so the form works and no token is shared.
The pages use no CSP nonce (nothing inline; `config.settings.base`), so the header is per response as ever.
The admin site bumps the topics too; a change made in the shell shows within ``PAGE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from functools import partial

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation

TOPICS = ("brands", "comments", "organizations", "scores")
PAGE_SECONDS = 60
_TOPIC_KEY = "page:topic:{topic}"
# Never produced by a template: `{% csrf_token %}` writes letters and digits only.
_PLACEHOLDER = "{{csrf-token-placeholder}}"
_CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')


def _topic_keys(topics: tuple[str, ...]) -> list[str]:
    unknown = set(topics) - set(TOPICS)
    if unknown:
        raise ValueError(f"Unknown page topics: {sorted(unknown)}")
    return [_TOPIC_KEY.format(topic=topic) for topic in topics]


def versions(topics: tuple[str, ...]) -> str:
    """The topics' current tokens, joined (one cache round trip when they are all set)."""
    keys = _topic_keys(topics)
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            token = uuid.uuid4().hex
            # Another process may have set it meanwhile: keep the first one, so every reader agrees.
            found[key] = token if cache.add(key, token, None) else cache.get(key, token)
    return ".".join(found[key] for key in keys)


def changed(*topics: str) -> None:
    """The topics changed: pages showing them render afresh at their next read.

    Deleted now and again after the commit: a page rendered meanwhile from the data before the commit
    was stored under the token in between, which the second deletion retires.
    """
    keys = _topic_keys(topics)
    cache.delete_many(keys)
    transaction.on_commit(partial(cache.delete_many, keys))


def _cacheable(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD") or request.user.is_authenticated:
        return False
    return not len(get_messages(request))  # counting them leaves them for the page that shows them


def cached_page(request: HttpRequest, *, topics: tuple[str, ...], render: Callable[[], HttpResponse]) -> HttpResponse:
    """``render()``'s answer, from the cache when an anonymous reader asked for the same page before."""
    if not _cacheable(request):
        return render()
    parts = (
        request.get_full_path(),
        translation.get_language() or "",
        timezone.localdate().isoformat(),
        versions(topics),
    )
    key = "page:" + hashlib.sha256("|".join(parts).encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        body, content_type = cached
        return HttpResponse(body.replace(_PLACEHOLDER, get_token(request)), content_type=content_type)
    response = render()
    if response.status_code == 200 and not response.streaming:
        body = _CSRF_VALUE.sub(rf"\g<1>{_PLACEHOLDER}\g<2>", response.content.decode(response.charset))
        cache.set(key, (body, response["Content-Type"]), PAGE_SECONDS)
    return response
