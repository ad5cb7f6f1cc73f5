from django.urls import path

from xinfang.reports import views

app_name = "reports"
urlpatterns = [
    path("rates/", views.rates, name="rates"),
    path("rates/matters/", views.rate_matters, name="rate_matters"),
]
