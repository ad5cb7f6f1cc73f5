from django.urls import path

from xinfang.exports import views

app_name = "exports"
urlpatterns = [
    path("", views.jobs, name="jobs"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/download/", views.download, name="download"),
    path("<int:pk>/retry/", views.retry, name="retry"),
]
