from django.urls import path

from xinfang.cases import views

app_name = "cases"  # with the ledger's pages (xinfang/ledger/urls.py), joined in xinfang/urls.py
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.register, name="register"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/<str:action>/", views.act, name="act"),
    path("<int:pk>/reveal/", views.reveal, name="reveal"),
    path("<int:pk>/accused/", views.record_accused, name="record_accused"),
    path("<int:pk>/notices/<str:notice>.docx", views.notice, name="notice"),
    path("<int:pk>/outcome-report.docx", views.outcome_report, name="outcome_report"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
]
