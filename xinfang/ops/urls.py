from django.urls import path

from xinfang.ops import views

app_name = "ops"
urlpatterns = [
    path("audit/", views.audit_log, name="audit"),
]
