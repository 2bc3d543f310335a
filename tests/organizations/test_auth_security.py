"""Logins under attack and API tokens that end: lockout after repeated failures (django-axes), tokens that
expire, are revoked by their owner and die with a password change."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.utils import timezone

from organizations.models import ApiToken

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"
ORGANIZATIONS = "/api/v1/organizations/"
LOCKED = "Too many failed logins for this username from your address. Try again in 15 minutes."


def page_login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password}, HTTP_ACCEPT_LANGUAGE="en")


def api_login(api_client, username, password):
    return api_client.post(TOKEN, {"username": username, "password": password}, HTTP_ACCEPT_LANGUAGE="en")


def after_cool_off():
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))


# --- lockout ---------------------------------------------------------------------


def test_login_page_locks_a_username_out_from_one_address_after_repeated_failures(client, secretary, other_secretary):
    for _ in range(240):
        assert page_login(client, "secretary", "wrong").status_code in (200, 429)
    response = page_login(client, "secretary", "pass12345")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not affected.
    assert page_login(client, "secretary2", "pass12345").status_code == 302
    client.logout()
    after_cool_off()
    response = page_login(client, "secretary", "pass12345")
    assert (response.status_code, response.url) == (302, "/")


def test_the_tenth_failure_locks_and_the_ninth_does_not(client, secretary):
    for _ in range(9):
        assert page_login(client, "secretary", "wrong").status_code == 200
    assert page_login(client, "secretary", "pass12345").status_code == 302  # and the count starts again
    client.logout()
    for _ in range(10):
        page_login(client, "secretary", "wrong")
    assert page_login(client, "secretary", "pass12345").status_code == 429


def test_the_lockout_is_per_address_as_the_app_sees_it(client, secretary):
    with override_settings(TRUSTED_PROXY_COUNT=1):
        for _ in range(10):
            client.post(LOGIN, {"username": "secretary", "password": "wrong"}, HTTP_X_FORWARDED_FOR="203.0.113.5")
        refused = client.post(
            LOGIN, {"username": "secretary", "password": "pass12345"}, HTTP_X_FORWARDED_FOR="203.0.113.5"
        )
        assert refused.status_code == 429
        # The same username from another client address behind the same proxy still logs in.
        other = client.post(
            LOGIN, {"username": "secretary", "password": "pass12345"}, HTTP_X_FORWARDED_FOR="198.51.100.7"
        )
        assert other.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.5"}


def test_token_endpoint_locks_out_with_a_429_and_a_message(api_client, secretary, other_secretary):
    for _ in range(240):
        assert api_login(api_client, "secretary", "wrong").status_code in (400, 429)
    response = api_login(api_client, "secretary", "pass12345")
    assert (response.status_code, response.json()) == (429, {"detail": LOCKED})
    assert ApiToken.objects.count() == 0
    assert api_login(api_client, "secretary2", "pass12345").status_code == 200
    after_cool_off()
    assert api_login(api_client, "secretary", "pass12345").status_code == 200


# --- tokens ----------------------------------------------------------------------


def test_login_gives_a_token_with_its_expiry_and_stores_only_its_hash(api_client, secretary):
    before = timezone.now()
    response = api_login(api_client, "secretary", "pass12345")
    assert response.status_code == 200
    body = response.json()
    assert sorted(body) == ["expiry", "token"]
    token = ApiToken.objects.get()
    assert token.user == secretary
    assert body["token"] not in (token.key_hash, token.password_fingerprint)
    assert before + timedelta(hours=168) <= token.expires_at <= timezone.now() + timedelta(hours=168)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api_client.get(ORGANIZATIONS).status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_each_login_has_its_own_token_and_logout_ends_only_that_one(api_client, secretary):
    first = api_login(api_client, "secretary", "pass12345").json()["token"]
    second = api_login(api_client, "secretary", "pass12345").json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api_client.delete(TOKEN).status_code == 204
    assert api_client.get(ORGANIZATIONS).status_code == 401
    assert api_client.delete(TOKEN).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert api_client.get(ORGANIZATIONS).status_code == 200


def test_logout_without_a_token_is_refused(api_client, secretary):
    assert api_client.delete(TOKEN).status_code == 401
    api_client.force_authenticate(secretary)
    response = api_client.delete(TOKEN, HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Send the token to revoke in the Authorization header."},
    )


@override_settings(API_TOKEN_TTL_HOURS=1)
def test_a_token_expires(api_client, secretary):
    key = api_login(api_client, "secretary", "pass12345").json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get(ORGANIZATIONS).status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_client.get(ORGANIZATIONS, HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response.json()) == (401, {"detail": "The token has expired. Log in again."})
    # The next login clears the dead one away.
    api_login(api_client, "secretary", "pass12345")
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize("how", ["set_password", "password_change_view"])
def test_a_new_password_ends_every_token_of_that_user_only(api_client, client, secretary, other_secretary, how):
    mine = api_login(api_client, "secretary", "pass12345").json()["token"]
    theirs = api_login(api_client, "secretary2", "pass12345").json()["token"]
    if how == "set_password":
        secretary.set_password("another-pass-6789")
        secretary.save()
    else:
        client.force_login(secretary)
        response = client.post(
            "/accounts/password_change/",
            {"old_password": "pass12345", "new_password1": "another-pass-6789", "new_password2": "another-pass-6789"},
        )
        assert response.status_code == 302
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {mine}")
    response = api_client.get(ORGANIZATIONS, HTTP_ACCEPT_LANGUAGE="en")
    assert (response.status_code, response.json()) == (
        401,
        {"detail": "The password has changed since this token was issued. Log in again."},
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {theirs}")
    assert api_client.get(ORGANIZATIONS).status_code == 200


def test_a_made_up_token_or_an_inactive_user_is_refused(api_client, secretary):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert api_client.get(ORGANIZATIONS).status_code == 401
    key = api_login(api_client, "secretary", "pass12345").json()["token"]
    secretary.is_active = False
    secretary.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get(ORGANIZATIONS).status_code == 401
