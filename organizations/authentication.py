"""Who is calling: API tokens (issue, check, revoke) and the answer to a login locked out by django-axes.

A token is shown once, at login, and stored as its SHA-256. It is refused after ``API_TOKEN_TTL_HOURS``,
after its owner logs out with it (``DELETE /api/v1/auth/token/``), and after the owner's password
changes by any path (password form, admin, ``set_password``): each token keeps a fingerprint of the
password hash it was issued under, so no signal has to catch every way a password can change.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from organizations.audit import audit_record
from organizations.models import ApiToken, User

# A last-use time more recent than this is not written again: one write per token per minute at most.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _password_fingerprint(user: User) -> str:
    return salted_hmac("organizations.ApiToken", user.password, algorithm="sha256").hexdigest()


@transaction.atomic
def api_token_issue(*, user: User) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row and the key, which is never stored and cannot be shown again.

    The user's expired tokens are deleted on the way, so the table holds live tokens and a few dead ones.
    """
    now = timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=_key_hash(key),
        password_fingerprint=_password_fingerprint(user),
        expires_at=now + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
    )
    audit_record(
        actor=user,
        action="api_token.create",
        target=token,
        organization=None,
        after={"expires_at": token.expires_at},
        label=user.username,
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    audit_record(
        actor=token.user,
        action="api_token.revoke",
        target=token,
        organization=None,
        before={"expires_at": token.expires_at},
        label=token.user.username,
    )
    ApiToken.objects.filter(pk=token.pk).delete()


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>`` with an ApiToken: live, not revoked, issued under the current password."""

    model = ApiToken

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(key_hash=_key_hash(key)).first()
        now = timezone.now()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("The token has expired. Log in again."))
        if not constant_time_compare(token.password_fingerprint, _password_fingerprint(token.user)):
            raise exceptions.AuthenticationFailed(
                _("The password has changed since this token was issued. Log in again.")
            )
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


def lockout_message() -> str:
    minutes = settings.AXES_COOLOFF_MINUTES
    return _("Too many failed logins for this username from your address. Try again in %(minutes)d minutes.") % {
        "minutes": minutes
    }


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None, credentials=None):
    """django-axes' answer to a locked-out login: JSON for the API, the login page saying so for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=429)
    context = {
        "form": AuthenticationForm(request, initial={"username": request.POST.get("username", "")}),
        "next": request.POST.get("next", request.GET.get("next", "")),
        "lockout_message": lockout_message(),
    }
    return render(request, "registration/login.html", context, status=429)
