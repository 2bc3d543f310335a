"""The errors services raise when they refuse a request, and the one mapping from their kind to HTTP.

A service says *why* it refuses (the message, for the person at the keyboard; the field it concerns; a
short ``code``) and *what kind* of refusal it is, by raising ``ApplicationError`` or one of its kinds
below. It knows nothing of HTTP. ``http_status`` is the only place a kind becomes a status: the API's
exception handler (``config.api.exception_handler``) and the pages (``form_refusal`` for a form that is
shown again, ``ApplicationErrorMiddleware`` for an error no view caught) both ask it.
"""

from django.http import Http404


class ApplicationError(Exception):
    """The request cannot be honoured as sent (400): bad input or a step the object's state forbids."""

    default_code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.default_code


class NotFound(ApplicationError):
    """No such object for this caller: it does not exist, or it is not the caller's to see (the same answer)."""

    default_code = "not_found"


class NotAllowed(ApplicationError):
    """The caller may see the object but not take this step on it (another role's decision)."""

    default_code = "not_allowed"


class Conflict(ApplicationError):
    """The object's current state forbids the step (already decided, closed, adopted once)."""

    default_code = "conflict"


class Throttled(ApplicationError):
    """Too many requests from this caller for now."""

    default_code = "throttled"


# Most specific first: a subclass of a kind answers as that kind.
HTTP_STATUS: tuple[tuple[type[ApplicationError], int], ...] = (
    (NotFound, 404),
    (NotAllowed, 403),
    (Conflict, 409),
    (Throttled, 429),
    (ApplicationError, 400),
)


def http_status(error: ApplicationError) -> int:
    """The HTTP status of a refusal, for the API and the pages alike."""
    return next(status for kind, status in HTTP_STATUS if isinstance(error, kind))


def error_body(error: ApplicationError) -> dict:
    """The API's body for a refusal: the message under its field, or under ``detail``."""
    return {error.field: [error.message]} if error.field else {"detail": error.message}


def form_refusal(form, error: ApplicationError) -> int:
    """Show a refusal on the page's form (on its field when the form has one) and return the page's status.

    A ``NotFound`` is no form error: the page is a 404, like any object outside the caller's reach.
    """
    if isinstance(error, NotFound):
        raise Http404(error.message) from error
    form.add_error(error.field if error.field in form.fields else None, error.message)
    return http_status(error)
