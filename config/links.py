"""Absolute links to this site, as people reach it: the one rule for mails, posters, QR codes and the API.

``SITE_URL`` when it is set. Otherwise the address of the request being answered (a poster drawn at
http://127.0.0.1:8000 links there), or, with no request (a mail sent by a worker), ``SITE_URL_DEFAULT``.
"""

from django.conf import settings
from django.http import HttpRequest


def absolute_url(path: str, request: HttpRequest | None = None) -> str:
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.SITE_URL_DEFAULT.rstrip("/") + path
