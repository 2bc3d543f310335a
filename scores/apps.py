from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoresConfig(AppConfig):
    name = "scores"
    verbose_name = _("Scores and rankings")

    def ready(self):
        # Registers the fold task in every process (web, commands, worker): evaluations asks for it by
        # name, and Celery's autodiscovery alone imports task modules only when a worker starts.
        from scores import tasks  # noqa: F401
