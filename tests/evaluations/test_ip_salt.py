"""Client addresses are hashed with a random key of the day, kept in the database and deleted after
EVALUATION_IP_KEY_DAYS days, so that a stored ip_hash cannot be reversed later by hashing every IPv4."""

from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from evaluations import integrity
from organizations.models import DailyHashKey

DAY = date(2026, 3, 2)
IP = "203.0.113.9"


@pytest.fixture
def on_day(monkeypatch):
    """``on_day(d)``: from now on the local date is ``d``; each call also forgets this process's copy."""
    integrity._day_secrets.clear()

    def move(day: date) -> None:
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)
        integrity._day_secrets.clear()

    yield move
    integrity._day_secrets.clear()


def test_an_address_hashes_the_same_all_day_and_differently_the_next(db, on_day):
    on_day(DAY)
    first = integrity.salted_hash("ip", IP)
    assert integrity.salted_hash("ip", IP) == first
    on_day(DAY)  # another process (no copy in memory) reads the same key from the database
    assert integrity.salted_hash("ip", IP) == first
    assert integrity.salted_hash("ip", "203.0.113.10") != first
    on_day(DAY + timedelta(days=1))
    assert integrity.salted_hash("ip", IP) != first
    assert list(DailyHashKey.objects.order_by("day").values_list("day", flat=True)) == [DAY, DAY + timedelta(days=1)]


def test_old_day_keys_are_deleted_so_old_hashes_cannot_be_recomputed(db, on_day):
    on_day(DAY)
    stored = integrity.salted_hash("ip", IP)
    on_day(DAY + timedelta(days=1))
    integrity.salted_hash("net", integrity.network_of(IP))
    assert DailyHashKey.objects.filter(day=DAY).exists()  # kept EVALUATION_IP_KEY_DAYS (2) days
    on_day(DAY + timedelta(days=2))
    integrity.salted_hash("ip", IP)
    assert list(DailyHashKey.objects.order_by("day").values_list("day", flat=True)) == [
        DAY + timedelta(days=1),
        DAY + timedelta(days=2),
    ]
    # Even on the same date again, a fresh key gives another hash: the stored one can no longer be matched.
    on_day(DAY)
    assert integrity.salted_hash("ip", IP) != stored


def test_the_day_keys_are_random_not_derived_from_settings(db, on_day):
    on_day(DAY)
    key = DailyHashKey.objects.get_or_create(day=DAY, defaults={"secret": "x" * 64})[0]
    assert key.secret == "x" * 64  # the key in the database is what the hash uses
    by_this_key = integrity.salted_hash("ip", IP)
    key.secret = "y" * 64
    key.save()
    on_day(DAY)
    assert integrity.salted_hash("ip", IP) != by_this_key
    same = integrity.salted_hash("ip", IP)
    with override_settings(EVALUATION_HASH_SALT="rotated"):  # SECRET_KEY's stand-in does not reach addresses
        assert integrity.salted_hash("ip", IP) == same
    with override_settings(EVALUATION_IP_SALT="pepper"):
        assert integrity.salted_hash("ip", IP) != same


def test_long_lived_kinds_keep_their_salt_across_days(db, on_day):
    on_day(DAY)
    device, code = integrity.salted_hash("device", "cookie-key"), integrity.salted_hash("rating-code", "ABCD")
    fallback = integrity.device_hash_for(integrity.ClientSignals(ip=IP, user_agent="Phone"))
    on_day(DAY + timedelta(days=1))
    assert integrity.salted_hash("device", "cookie-key") == device
    assert integrity.salted_hash("rating-code", "ABCD") == code
    # The device fallback (address and user agent) is an address hash: one day only.
    assert integrity.device_hash_for(integrity.ClientSignals(ip=IP, user_agent="Phone")) != fallback


def test_a_day_with_ratings_counts_distinct_addresses_on_one_key(db, on_day):
    on_day(DAY)
    hashes = {integrity.salted_hash("ip", f"198.51.100.{i % 3}") for i in range(9)}
    assert len(hashes) == 3
    assert DailyHashKey.objects.count() == 1
