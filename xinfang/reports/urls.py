from django.urls import path

from xinfang.reports import analysis_views, dashboard_views, views

app_name = "reports"
urlpatterns = [
    path("rates/", views.rates, name="rates"),
    path("rates/matters/", views.rate_matters, name="rate_matters"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/matters/", dashboard_views.dashboard_matters, name="dashboard_matters"),
    path("analysis/", analysis_views.analysis_page, name="analysis"),
]
