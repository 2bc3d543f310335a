"""Pages of the organization department's dashboard and the secretaries' workspace home."""

app_name = "dashboards"

urlpatterns: list = []
