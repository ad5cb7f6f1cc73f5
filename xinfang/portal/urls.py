from django.urls import path

from xinfang.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("submit/", views.submit, name="submit"),
    path("submit/done/", views.submitted, name="submitted"),
    path("track/", views.track, name="track"),
    path("case/", views.case, name="case"),
    path("case/notices/<slug:slug>.docx", views.notice, name="notice"),
    path("case/rate/", views.rate, name="rate"),
    path("case/review/", views.review, name="review"),
    path("case/rereview/", views.rereview, name="rereview"),
    path("case/leave/", views.leave, name="leave"),
]
