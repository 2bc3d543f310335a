"""A real Celery worker sends the mail of a new rectification after the submission commits."""

import time

import pytest

from evaluations import integrity, services
from organizations.models import Notice

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_notifies_the_secretary(celery_worker_process, brand, secretary):
    signals = integrity.ClientSignals(ip="10.0.0.9", device_key="w1")
    services.evaluation_submit(brand=brand, overall=1, signals=signals, channel="api")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        notice = Notice.objects.filter(recipient=secretary).first()
        if notice and notice.status == Notice.Status.SENT:
            break
        time.sleep(0.3)
    notice = Notice.objects.get(recipient=secretary)
    assert (notice.kind, notice.status, notice.attempts, notice.in_digest) == ("rectification_opened", "sent", 1, False)
    assert notice.sent_at is not None
