"""Request screening shared by every route, before any view (or the database) sees the request."""

import re

from django.http import Http404

# Unicode category Cc: C0 controls, DEL and C1 controls. No code, receipt or file name contains one, and
# PostgreSQL refuses NUL in text outright, so a lookup by such a value would fail with a 500.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class RejectControlCharactersMiddleware:
    """A path with a control character is a page that does not exist: 404 on every route, the API and
    media included. (Query strings are the forms' business: their fields drop or refuse NUL.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if CONTROL_CHARACTERS.search(request.path_info):
            raise Http404
        return self.get_response(request)


class ApplicationErrorMiddleware:
    """A service's refusal that no view caught becomes a page with its message and the status the one
    mapping (``config.errors.http_status``) gives it: a ``NotFound`` is the 404 page. (The API's views
    answer their own refusals through DRF's exception handler, with the same mapping.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from config.errors import ApplicationError, NotFound, http_status

        if not isinstance(exception, ApplicationError):
            return None
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
        return render(request, "refused.html", {"message": exception.message}, status=http_status(exception))
