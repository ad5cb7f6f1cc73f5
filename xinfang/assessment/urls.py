from django.urls import path

from xinfang.assessment import views

app_name = "assessment"
urlpatterns = [
    path("", views.assessments, name="list"),
    path("compute/", views.compute, name="compute"),
    path("scheme/", views.scheme, name="scheme"),
    path("record/", views.record, name="record"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/<str:action>/", views.act, name="act"),
]
