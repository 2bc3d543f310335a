"""Try to buy rankings through the real rating API, and check that a busy community is not silenced.

Usage: python bench/stuffing.py [--brands 200] [--per-brand 40]   (``make bench-stuffing``)

A fresh SQLite database (a temporary file) gets a city of public brands with 28 days of genuine
history, ranked. Then 48 brands from the lower half are stuffed with grade-5 ratings through
``POST /api/v1/brands/<code>/evaluations/`` (the Django test client, with the server's default
settings), twelve by each of four behaviours:

1. one phone on one address;
2. a few phones (five) on one office address;
3. many device ids from one /24 network, in a burst;
4. spread addresses and device ids, slow (one every twenty minutes, through the day).

Every phone fetches its device id from the server (``GET``), as the real widget would; no client
solves the proof of work (a scripted stuffer without a browser). It prints, per behaviour, how many
ratings were counted, held for review and refused, and how far the stuffed brands moved in the
all-time ranking (a reviewer decides the holds, so the held ones are left out). Then the thirty
phones case: thirty phones behind one community Wi-Fi address rate one brand within ten minutes,
first without codes, then with codes from the service point. Not a test: figures for the issue.
"""

import argparse
import logging
import os
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(database: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, mail kept in memory
    logging.getLogger("celery").setLevel(logging.WARNING)  # eager folds would log every rating

    call_command("migrate", verbosity=0)


def build_city(n_brands: int, rng):
    """Public brands in two domains with 28 days of counted history (0 to 3 ratings a day each)."""
    from django.utils import timezone

    from evaluations.models import Evaluation
    from organizations.models import Organization, User
    from tests.factories import make_brand, make_organization

    city = make_organization("中共青岛市委员会", level=Organization.Level.CITY_COMMITTEE, domain="organ")
    communities = [make_organization(f"社区党委{i}", city) for i in range(20)]
    brands = [make_brand(communities[i % 20], code=f"B{i:04d}", name=f"品牌{i}") for i in range(n_brands)]
    today = timezone.localdate()
    rows = []
    for brand in brands:
        quality = rng.uniform(3.2, 4.8)  # the brand's true mean grade
        rate = rng.choice([0.3, 0.7, 1.0, 1.5, 2.5])
        for day in range(1, 29):
            for _i in range(_poisson(rng, rate)):
                grade = min(5, max(1, round(rng.gauss(quality, 0.9))))
                rows.append(
                    Evaluation(
                        brand=brand,
                        organization_id=brand.organization_id,
                        overall=grade,
                        receipt=f"H{len(rows):015d}",
                        device_hash=f"history-{len(rows)}",
                        ip_hash="history",
                        rated_on=today - timedelta(days=day),
                        created_at=timezone.now() - timedelta(days=day),
                    )
                )
    Evaluation.objects.bulk_create(rows, batch_size=2000)
    secretary = User.objects.create_user("secretary", password="x")
    return brands, secretary


def _poisson(rng, rate: float) -> int:
    import math

    threshold, k, product = math.exp(-rate), 0, rng.random()
    while product > threshold:
        k += 1
        product *= rng.random()
    return k


def ranks() -> dict[str, int]:
    from scores import selectors, services

    services.scores_recompute_full()
    ranking = selectors.Ranking(period="all")
    return {row.code: row.rank for row in ranking if row.rank is not None}


class Client:
    """One stuffer: posts through the API from an address, with a device id the server issued."""

    def __init__(self):
        from rest_framework.test import APIClient

        self.api = APIClient()

    def device(self, code: str, ip: str) -> str:
        return self.api.get(f"/api/v1/brands/{code}/evaluations/", REMOTE_ADDR=ip).json()["device_id"]

    def rate(self, brand_code: str, ip: str, device: str, **body) -> str:
        response = self.api.post(
            f"/api/v1/brands/{brand_code}/evaluations/",
            {"overall": 5, **body},
            format="json",
            REMOTE_ADDR=ip,
            HTTP_X_DEVICE_ID=device,
        )
        if response.status_code == 429:
            return "refused"
        assert response.status_code == 201, response.content
        return response.json()["status"]


def stuff(behaviour: int, code: str, per_brand: int, index: int, now) -> list[str]:
    client = Client()
    outcomes = []
    if behaviour == 1:  # one phone, one address
        ip = f"172.16.{index}.10"
        device = client.device(code, ip)
        outcomes = [client.rate(code, ip, device) for _i in range(per_brand)]
    elif behaviour == 2:  # five phones on one office address
        ip = f"172.17.{index}.10"
        devices = [client.device(code, ip) for _i in range(5)]
        outcomes = [client.rate(code, ip, devices[i % 5]) for i in range(per_brand)]
    elif behaviour == 3:  # a fresh device id per rating, addresses across one /24, in a burst
        for i in range(per_brand):
            ip = f"172.18.{index}.{i % 250 + 1}"
            outcomes.append(client.rate(code, ip, client.device(code, ip)))
    else:  # spread addresses and devices, slow: one every twenty minutes through the day
        for i in range(per_brand):
            ip = f"10.{index}.{i}.{i % 200 + 1}"
            with mock.patch("django.utils.timezone.now", return_value=now + timedelta(minutes=20 * i)):
                outcomes.append(client.rate(code, ip, client.device(code, ip)))
    return outcomes


def thirty_phones(brand, secretary) -> tuple[list[str], list[str]]:
    from evaluations import services

    client = Client()
    ip = "100.64.3.7"  # carrier NAT / community Wi-Fi
    without = [client.rate(brand.code, ip, client.device(brand.code, ip)) for _i in range(30)]
    codes = services.rating_codes_issue(brand=brand, actor=secretary, count=30, valid_days=1)[1]
    with_codes = [client.rate(brand.code, ip, client.device(brand.code, ip), code=code) for code in codes]
    return without, with_codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brands", type=int, default=200)
    parser.add_argument("--per-brand", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    import random

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as directory:
        setup(Path(directory) / "stuffing.sqlite3")
        from django.core.cache import cache
        from django.utils import timezone

        brands, secretary = build_city(args.brands, rng)
        before = ranks()
        total = len(before)
        lower_half = [code for code, rank in sorted(before.items(), key=lambda item: item[1]) if rank > total // 2]
        stuffed = rng.sample(lower_half, 48)
        now = timezone.localtime().replace(hour=8, minute=0)  # a working day from 8 a.m.
        outcomes: dict[int, list[str]] = {1: [], 2: [], 3: [], 4: []}
        targets: dict[int, list[str]] = {1: [], 2: [], 3: [], 4: []}
        for index, code in enumerate(stuffed):
            behaviour = index % 4 + 1
            targets[behaviour].append(code)
            outcomes[behaviour] += stuff(behaviour, code, args.per_brand, index, now)
            cache.clear()  # each stuffer starts with fresh throttle windows (as on another hour/day)
        after = ranks()
        names = {1: "one phone, one address", 2: "five phones, one office address", 3: "fresh ids, one /24, burst"}
        names[4] = "spread addresses and ids, slow"
        print(f"{total} ranked brands; 48 stuffed with {args.per_brand} grade-5 ratings each\n")
        print(f"{'behaviour':34} {'sent':>5} {'counted':>8} {'held':>6} {'repeat':>7} {'refused':>8}  places moved")
        all_moves = []
        for behaviour in (1, 2, 3, 4):
            seen = outcomes[behaviour]
            moves = [100 * (before[c] - after[c]) / total for c in targets[behaviour]]
            all_moves += moves
            print(
                f"{names[behaviour]:34} {len(seen):5} {seen.count('counted'):8} {seen.count('held'):6}"
                f" {seen.count('repeat'):7} {seen.count('refused'):8}"
                f"  median {statistics.median(moves):.1f}%, max {max(moves):.1f}%"
            )
        sent = sum(len(seen) for seen in outcomes.values())
        counted = sum(seen.count("counted") for seen in outcomes.values())
        print(f"\nall: {counted}/{sent} counted ({100 * counted / sent:.1f}%); stuffed brands moved a median")
        print(f"{statistics.median(all_moves):.1f}% of places, at most {max(all_moves):.1f}%")
        quiet = next(b for b in brands if b.code not in stuffed)
        cache.clear()
        without, with_codes = thirty_phones(quiet, secretary)
        print("\nthirty phones behind one address, one brand, ten minutes:")
        for label, seen in (("without codes", without), ("with codes", with_codes)):
            print(
                f"  {label:14} stored {len(seen) - seen.count('refused')}/30: counted {seen.count('counted')},"
                f" held {seen.count('held')}, repeat {seen.count('repeat')}, refused {seen.count('refused')}"
            )


if __name__ == "__main__":
    main()
