from django.urls import path

from xinfang.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.queue, name="queue"),
]
