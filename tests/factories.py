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


# --- Brands (issue 3) ---------------------------------------------------------

from brands.models import Brand  # noqa: E402


class BrandFactory(factory.django.DjangoModelFactory):
    """A brand in the given status; no audit rows (tests of transitions go through brands.services)."""

    class Meta:
        model = Brand

    code = factory.Sequence(lambda n: f"T{n:05d}")
    name = factory.Sequence(lambda n: f"品牌{n}")
    slogan = "服务群众"
    concept = "把党员作用落到服务群众上。"
    carrier = "党员责任区"
    positioning = "面向社区居民"
    service_targets = factory.LazyFunction(lambda: [Brand.ServiceTarget.MASSES])
    status = Brand.Status.DRAFT


# --- evaluations (issue 4) -----------------------------------------------------------


_brand_counter = iter(range(1, 1_000_000))


def make_brand(organization: Organization, code: str | None = None, *, status: str = "cultivating", **fields):
    """A brand of the organization; public (cultivating) unless told otherwise."""
    from brands.models import Brand

    n = next(_brand_counter)
    fields.setdefault("name", f"品牌{code}" if code else f"测试品牌{n}")
    fields.setdefault("slogan", "为民服务")
    return Brand.objects.create(organization=organization, code=code or f"t{n:05d}", status=status, **fields)


# --- scores and rankings ---

_evaluation_sequence = iter(range(1, 10**9))


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
