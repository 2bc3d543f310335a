"""The client address behind proxies, hashing and the proof-of-work round trip."""

import pytest
from django.test import RequestFactory, override_settings

from evaluations import integrity


def request(remote="192.0.2.1", xff=None):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("count", "xff", "expected"),
    [
        (0, "203.0.113.9", "192.0.2.1"),  # no trusted proxy: the header is ignored
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the forged left entry is ignored
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "203.0.113.9", "192.0.2.1"),  # fewer entries than proxies: do not trust it
        (1, "not-an-ip", "192.0.2.1"),
        (1, "", "192.0.2.1"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_ip_counts_trusted_proxies_from_the_right(count, xff, expected):
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert integrity.client_ip(request(xff=xff)) == expected


def test_networks_group_neighbours():
    assert integrity.network_of("203.0.113.77") == "203.0.113.0/24"
    assert integrity.network_of("2001:db8:1:2::5") == "2001:db8:1::/48"


def test_hashes_are_salted_and_never_the_raw_value(db):
    value = integrity.salted_hash("ip", "203.0.113.9")
    device = integrity.salted_hash("device", "203.0.113.9")
    assert len(value) == 64 and "203" not in value
    assert value != device
    with override_settings(EVALUATION_IP_SALT="other"):  # addresses: the day's key and this pepper
        assert integrity.salted_hash("ip", "203.0.113.9") != value
    with override_settings(EVALUATION_HASH_SALT="other"):  # everything else
        assert integrity.salted_hash("device", "203.0.113.9") != device


def test_device_falls_back_to_ip_and_user_agent(db):
    a = integrity.ClientSignals(ip="1.1.1.1", user_agent="A")
    b = integrity.ClientSignals(ip="1.1.1.1", user_agent="B")
    keyed = integrity.ClientSignals(ip="1.1.1.1", user_agent="A", device_key="k")
    assert integrity.device_hash_for(a) != integrity.device_hash_for(b)
    assert integrity.device_hash_for(keyed) == integrity.device_hash_for(
        integrity.ClientSignals(ip="9.9.9.9", device_key="k")
    )


def test_form_token_measures_elapsed_time_and_rejects_forgeries():
    assert 0 <= integrity.form_elapsed(integrity.form_token()) < 5
    assert integrity.form_elapsed("forged") is None
    assert integrity.form_elapsed("") is None


def test_proof_of_work_solution_verifies_once_and_garbage_does_not():
    payload = integrity.pow_solve(integrity.pow_challenge())
    assert integrity.pow_verify(payload) is True
    assert integrity.pow_verify(payload) is False
    assert integrity.pow_verify("bm90IGpzb24=") is False
    assert integrity.pow_verify("") is False
