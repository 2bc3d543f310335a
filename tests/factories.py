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


# --- scores and rankings ---

_evaluation_sequence = iter(range(1, 10**9))


def make_brand(organization: Organization, code: str, **fields):
    """A public (cultivating) brand unless told otherwise."""
    from brands.models import Brand

    fields.setdefault("name", f"品牌{code}")
    fields.setdefault("status", Brand.Status.CULTIVATING)
    return Brand.objects.create(organization=organization, code=code, **fields)


def make_evaluation(brand, overall: int, *, save: bool = True, **fields):
    """One rating of `brand`, created directly (the submission service lives in evaluations.services)."""
    import datetime

    from evaluations.models import Evaluation

    number = next(_evaluation_sequence)
    fields.setdefault("rated_on", datetime.date(2026, 11, 10))
    fields.setdefault("rater_group", Evaluation.RaterGroup.MASSES)
    evaluation = Evaluation(
        brand=brand,
        organization_id=brand.organization_id,
        overall=overall,
        receipt=f"R{number:012d}",
        device_hash=f"device{number}",
        ip_hash=f"ip{number}",
        **fields,
    )
    if save:
        evaluation.save()
    return evaluation
