"""The mails of the rectification loop, rendered from templates in the recipient's default language."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _


def _link(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}" if settings.SITE_URL else path


def send_single(*, user, notification) -> None:
    rectification = notification.rectification
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "notification": notification,
            "rectification": rectification,
            "link": _link(reverse("evaluations:workspace-rectification", args=[rectification.pk])),
        }
        subject = _("[Brand portal] %(kind)s: %(brand)s") % {
            "kind": notification.get_kind_display(),
            "brand": rectification.brand.name,
        }
        body = render_to_string("evaluations/mail/notification.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def send_digest(*, user, notifications) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "notifications": notifications,
            "link": _link(reverse("evaluations:workspace-rectifications")),
        }
        subject = _("[Brand portal] Daily digest: %(count)d rectification notices") % {"count": len(notifications)}
        body = render_to_string("evaluations/mail/digest.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
