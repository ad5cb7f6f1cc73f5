from django.urls import path

from xinfang.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("mine/", views.mine, name="mine"),
    path("mine/read/", views.mine_read, name="mine_read"),
]
