from django.urls import path

from xinfang.answers import views

app_name = "answers"
urlpatterns = [
    path("cases/<int:pk>/panel/", views.case_panel, name="case_panel"),
    path("cases/<int:pk>/check/", views.check, name="check"),
    path("report/", views.report, name="report"),
]
