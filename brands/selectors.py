"""Reads over brands."""

from django.db.models import QuerySet
from django.http import Http404

from brands.models import Brand


def brand_public_list() -> QuerySet[Brand]:
    """Brands the public may see (cultivating, named, demonstration)."""
    return Brand.objects.filter(status__in=Brand.PUBLIC_STATUSES).select_related("organization")


def brand_public_get(*, code: str) -> Brand:
    """A public brand by its code, else 404 (drafts and revoked brands do not exist for the public)."""
    try:
        return brand_public_list().get(code=code)
    except Brand.DoesNotExist:
        raise Http404 from None
