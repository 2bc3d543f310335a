"""factory_boy factories shared by every test module."""

import factory

from organizations.models import Membership, Organization, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pass12345")


def make_organization(name: str, parent: Organization | None = None, **fields) -> Organization:
    """Treebeard nodes must be created through add_root/add_child, so no factory class."""
    fields.setdefault("level", Organization.Level.COMMITTEE)
    fields.setdefault("domain", Organization.Domain.COMMUNITY)
    fields.setdefault("region", "市北区")
    if parent is None:
        return Organization.objects.add_root(dict(name=name, **fields))
    return Organization.objects.add_child(parent, dict(name=name, **fields))


def grant(user: User, organization: Organization, role: str) -> Membership:
    return Membership.objects.create(user=user, organization=organization, role=role)
