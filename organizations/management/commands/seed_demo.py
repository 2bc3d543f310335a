"""Load the demo data: the organization tree, demo accounts, and each app's demo content.

Safe to run again: a second run changes nothing.
"""

from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

from organizations.demo import DEMO_PASSWORD, USERS

# Each module has ``seed(stdout) -> dict[str, int]`` (what it created); order matters.
SEEDERS = [
    "organizations.demo",
    "brands.demo",
    "evaluations.demo",  # after the brands seeder: rates the public demo brands
    "dashboards.demo",  # last: figures, warnings and a 帮扶 case over all of the above
]


class Command(BaseCommand):
    help = "Load demo organizations, users, brands and ratings (idempotent)."

    def handle(self, *args, **options):
        for module_name in SEEDERS:
            with transaction.atomic():
                created = import_module(module_name).seed(stdout=self.stdout)
            summary = ", ".join(f"{count} {what}" for what, count in created.items())
            self.stdout.write(f"{module_name}: created {summary}")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password {DEMO_PASSWORD}):"))
        for username, (display_name, _role, _org) in USERS.items():
            self.stdout.write(f"  {username:<18} {display_name}")
