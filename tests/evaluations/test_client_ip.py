"""A client cannot choose the address its ratings are counted and throttled under."""

import pytest
from django.test import RequestFactory, override_settings

from evaluations import integrity
from evaluations.models import Evaluation

pytestmark = pytest.mark.django_db

URL = "/api/v1/brands/hyl01/evaluations/"
# The address the test client connects from (its REMOTE_ADDR).
TEST_CLIENT_ADDRESS = "127.0.0.1"
# Where a trusted proxy would connect from (a compose network address).
PROXY_ADDRESS = "172.18.0.5"
SPOOFED = ["203.0.113.9", "6.6.6.6, 203.0.113.9", "198.51.100.7, 10.0.0.1", "not-an-ip", "::1", ""]


def request_from(remote: str, xff: str | None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().post(URL, **extra)


def submit(api_client, *, xff: str, device: str):
    return api_client.post(URL, {"overall": 5}, format="json", HTTP_X_FORWARDED_FOR=xff, HTTP_X_DEVICE_ID=device)


# --- no trusted proxy: the header is ignored --------------------------------------


@override_settings(TRUSTED_PROXY_COUNT=0)
@pytest.mark.parametrize("xff", [*SPOOFED, None])
def test_without_a_trusted_proxy_the_header_is_ignored(xff):
    assert integrity.client_ip(request_from("192.0.2.1", xff)) == "192.0.2.1"


@override_settings(TRUSTED_PROXY_COUNT=0, EVALUATION_THROTTLE_IP_BRAND=100, EVALUATION_POW_SOFT_LIMIT=100)
def test_without_a_trusted_proxy_spoofed_ratings_all_hash_the_connecting_address(api_client, brand):
    for i, xff in enumerate(SPOOFED):
        assert submit(api_client, xff=xff, device=f"d{i}").status_code == 201
    assert list(Evaluation.objects.values_list("ip_hash", flat=True)) == [
        integrity.salted_hash("ip", TEST_CLIENT_ADDRESS)
    ] * len(SPOOFED)


@override_settings(TRUSTED_PROXY_COUNT=0, EVALUATION_THROTTLE_IP_BRAND=2, EVALUATION_POW_SOFT_LIMIT=100)
def test_without_a_trusted_proxy_a_new_spoofed_address_does_not_reopen_the_throttle(api_client, brand):
    assert submit(api_client, xff="203.0.113.1", device="d1").status_code == 201
    assert submit(api_client, xff="203.0.113.2", device="d2").status_code == 201
    assert submit(api_client, xff="203.0.113.3", device="d3").status_code == 429
    assert Evaluation.objects.count() == 2


# --- one trusted proxy: its entry, the last, is the client ----------------------------


@override_settings(TRUSTED_PROXY_COUNT=1)
@pytest.mark.parametrize(
    ("xff", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("1.2.3.4, 203.0.113.9", "203.0.113.9"),  # the client's own entry, left of the proxy's
        ("1.2.3.4,5.6.7.8 ,  203.0.113.9", "203.0.113.9"),
        ("garbage, 2001:db8::1", "2001:db8::1"),
        ("1.2.3.4, 2001:DB8:0::1", "2001:db8::1"),  # normalised, so one client has one hash
    ],
)
def test_behind_one_proxy_the_last_entry_is_used_and_the_rest_ignored(xff, expected):
    assert integrity.client_ip(request_from(PROXY_ADDRESS, xff)) == expected


@override_settings(TRUSTED_PROXY_COUNT=1)
@pytest.mark.parametrize(
    "xff",
    [
        "203.0.113.9, not-an-ip",
        "203.0.113.9, 203.0.113.300",
        "203.0.113.9, 203.0.113.9:443",  # a port is not part of an address
        "",
        " , ",
        None,
    ],
)
def test_behind_one_proxy_a_malformed_or_missing_last_entry_falls_back_to_remote_addr(xff):
    assert integrity.client_ip(request_from(PROXY_ADDRESS, xff)) == PROXY_ADDRESS


@override_settings(TRUSTED_PROXY_COUNT=1, EVALUATION_THROTTLE_IP_BRAND=100, EVALUATION_POW_SOFT_LIMIT=100)
def test_behind_one_proxy_ratings_hash_the_last_entry_whatever_the_client_wrote_before_it(api_client, brand):
    forged_prefixes = ["", "1.1.1.1, ", "1.1.1.2, 9.9.9.9, ", "not-an-ip, "]
    for i, prefix in enumerate(forged_prefixes):
        assert submit(api_client, xff=f"{prefix}198.51.100.20", device=f"d{i}").status_code == 201
    assert submit(api_client, xff="198.51.100.20, bad", device="fallback").status_code == 201
    assert list(Evaluation.objects.order_by("pk").values_list("ip_hash", flat=True)) == [
        integrity.salted_hash("ip", "198.51.100.20")
    ] * len(forged_prefixes) + [integrity.salted_hash("ip", TEST_CLIENT_ADDRESS)]
