from django.urls import path

from xinfang.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.outbox, name="outbox"),
]
