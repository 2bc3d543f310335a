from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("Dashboards, warnings and 帮扶")

    def ready(self):
        from dashboards import tasks  # noqa: F401  (registers the hourly job in every process)
