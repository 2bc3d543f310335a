"""A real Celery worker sends the mail of a new rectification after the submission commits."""

import time

import pytest

from evaluations import integrity, services
from evaluations.models import Notification

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_notifies_the_secretary(celery_worker_process, brand, secretary):
    signals = integrity.ClientSignals(ip="10.0.0.9", device_key="w1")
    services.evaluation_submit(brand=brand, overall=1, signals=signals, channel="api")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        notification = Notification.objects.filter(recipient=secretary).first()
        if notification and notification.sent_at:
            break
        time.sleep(0.3)
    notification = Notification.objects.get(recipient=secretary)
    assert (notification.kind, notification.in_digest) == ("opened", False)
    assert notification.sent_at is not None
