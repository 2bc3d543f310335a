"""Writes over organizations: the notice outbox (every mail the portal sends to a person).

A notice is a row first. ``notices_write`` runs inside the transaction of the event it tells of, so the
row exists exactly when the event committed; after commit the task ``organizations.notice_deliver`` sends
it. Delivery claims the row with one conditional UPDATE, so two workers (or a task and the beat's sweep)
never send one notice twice; a mail error is recorded and tried again after a doubling delay, up to
``NOTICE_MAX_ATTEMPTS``, then the notice is failed (visible in the admin). The sweep
``organizations.notices_deliver_due`` sends every pending notice whose next attempt is due: retries, and
notices whose task was lost (broker down at commit, Redis restarted, a worker killed). A person past
``NOTIFICATION_DIGEST_THRESHOLD`` mails today gets the rest in the daily digest.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

import config.tasks
from config.links import absolute_url
from organizations import tasks
from organizations.models import Notice, User

logger = logging.getLogger("organizations.notices")

# At most this many notices per sweep; the next sweep takes the rest.
SWEEP_LIMIT = 500


def _render(template: str, context: dict) -> str:
    return render_to_string(template, context).strip()


def notices_write(
    *, recipients: Iterable[User], kind: str, key: str, template: str, context: dict, path: str
) -> list[Notice]:
    """Write one notice per recipient with an e-mail address, in the caller's transaction.

    ``key`` names the event: a person gets one notice per key however often this runs. ``template`` names
    two templates, ``<template>_subject.txt`` and ``<template>.txt``, rendered now in the site's language
    with ``context`` plus ``name`` (the person's name) and ``link`` (the absolute address of ``path``).
    Each new notice is handed to the delivery task after commit. Returns the notices written.
    """
    link = absolute_url(path)
    written = []
    with translation.override(settings.LANGUAGE_CODE):
        for recipient in recipients:
            if not recipient.email:
                continue
            values = {**context, "name": str(recipient), "link": link}
            notice, created = Notice.objects.get_or_create(
                recipient=recipient,
                key=key,
                defaults={
                    "kind": kind,
                    "subject": " ".join(_render(f"{template}_subject.txt", values).split())[:200],
                    "body": _render(f"{template}.txt", values) + "\n",
                    "link": link,
                },
            )
            if created:
                written.append(notice)
    for notice in written:
        # Not enqueued (broker down): the sweep sends it within a minute or so of the broker's return.
        transaction.on_commit(partial(config.tasks.enqueue, tasks.notice_deliver, notice.pk))
    return written


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: NOTICE_RETRY_SECONDS, doubling, capped."""
    seconds = settings.NOTICE_RETRY_SECONDS * 2 ** (attempts - 1)
    return timedelta(seconds=min(seconds, settings.NOTICE_RETRY_MAX_SECONDS))


def _mails_sent_today(recipient_id: int) -> int:
    today_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return Notice.objects.filter(recipient_id=recipient_id, sent_at__gte=today_start, in_digest=False).count()


def notice_deliver(*, notice_id: int) -> bool:
    """Send one notice if it is pending, due and nobody else is sending it. Returns whether it went out.

    Safe to run twice and in several workers at once: the row is claimed by one conditional UPDATE that
    counts the attempt and moves the next attempt a lease ahead, so whoever loses the race finds nothing
    to do, and no transaction stays open while the mail server talks. A worker that dies mid-send leaves
    a claim that runs out after ``NOTICE_LEASE_SECONDS``; the sweep sends the notice then.
    """
    now = timezone.now()
    due = Notice.objects.filter(pk=notice_id, status=Notice.Status.PENDING, next_attempt_at__lte=now)
    notice = due.select_related("recipient").first()
    if notice is None:
        return False  # sent, failed, not due yet, being sent elsewhere, or gone
    if _mails_sent_today(notice.recipient_id) >= settings.NOTIFICATION_DIGEST_THRESHOLD:
        due.update(status=Notice.Status.DIGEST)
        return False
    lease = now + timedelta(seconds=settings.NOTICE_LEASE_SECONDS)
    if not due.filter(attempts=notice.attempts).update(attempts=F("attempts") + 1, next_attempt_at=lease):
        return False  # another worker claimed it first
    attempts = notice.attempts + 1
    try:
        send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [notice.recipient.email])
    except Exception as error:  # whatever the mail backend raises: recorded on the row, tried again later
        failed = attempts >= settings.NOTICE_MAX_ATTEMPTS
        Notice.objects.filter(pk=notice.pk).update(
            status=Notice.Status.FAILED if failed else Notice.Status.PENDING,
            next_attempt_at=timezone.now() + retry_delay(attempts),
            last_error=f"{error.__class__.__name__}: {error}"[:1000],
        )
        logger.warning(
            "Notice %s not sent (attempt %s of %s%s): %s",
            notice.pk,
            attempts,
            settings.NOTICE_MAX_ATTEMPTS,
            ", given up" if failed else "",
            error.__class__.__name__,
        )
        return False
    Notice.objects.filter(pk=notice.pk).update(status=Notice.Status.SENT, sent_at=timezone.now())
    return True


def notices_deliver_due() -> int:
    """Send every pending notice whose next attempt is due: retries, and notices whose task was lost.

    Safe alongside the tasks and another sweep (each notice is claimed). Returns the mails sent.
    """
    due = (
        Notice.objects.filter(status=Notice.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    return sum(notice_deliver(notice_id=pk) for pk in list(due))


def notices_send_digest() -> int:
    """One mail per person with every notice waiting for the digest. Returns the number of digests sent.

    A digest that cannot be sent leaves its notices waiting for the next one.
    """
    digests = 0
    recipient_ids = set(Notice.objects.filter(status=Notice.Status.DIGEST).values_list("recipient_id", flat=True))
    for recipient in User.objects.filter(pk__in=recipient_ids).order_by("pk"):
        with transaction.atomic():
            waiting = list(
                Notice.objects.select_for_update()
                .filter(recipient=recipient, status=Notice.Status.DIGEST)
                .order_by("pk")
            )
            if not waiting:
                continue
            with translation.override(settings.LANGUAGE_CODE):
                values = {"name": str(recipient), "notices": waiting, "count": len(waiting)}
                subject = " ".join(_render("organizations/mail/digest_subject.txt", values).split())
                body = _render("organizations/mail/digest.txt", values) + "\n"
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email])
            except Exception as error:  # the notices wait for the next digest
                logger.warning("Digest for user %s not sent: %s", recipient.pk, error.__class__.__name__)
                Notice.objects.filter(pk__in=[n.pk for n in waiting]).update(
                    last_error=f"{error.__class__.__name__}: {error}"[:1000]
                )
                continue
            Notice.objects.filter(pk__in=[n.pk for n in waiting]).update(
                status=Notice.Status.SENT, sent_at=timezone.now(), in_digest=True
            )
            digests += 1
    return digests


def notices_retry(*, notice_ids: list[int]) -> int:
    """Give failed notices a fresh set of attempts, starting now (the admin's "send again"). Returns how many."""
    failed = list(Notice.objects.filter(pk__in=notice_ids, status=Notice.Status.FAILED).values_list("pk", flat=True))
    Notice.objects.filter(pk__in=failed, status=Notice.Status.FAILED).update(
        status=Notice.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    for pk in failed:
        transaction.on_commit(partial(config.tasks.enqueue, tasks.notice_deliver, pk))
    return len(failed)
