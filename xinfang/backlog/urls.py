from django.urls import path

from xinfang.backlog import views

app_name = "backlog"
urlpatterns = [
    path("", views.board, name="board"),
    path("flag/", views.flag, name="flag"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/do/<str:action>/", views.act, name="act"),
    path("<int:pk>/report.docx", views.report, name="report"),
    path("actions/<int:pk>/done/", views.action_done, name="action_done"),
    path("screening/", views.rounds, name="rounds"),
    path("screening/template.xlsx", views.round_template, name="round_template"),
    path("screening/<int:pk>/", views.round_detail, name="round"),
    path("screening/<int:pk>/import/", views.round_import, name="round_import"),
    path("screening/entries/<int:pk>/convert/", views.entry_convert, name="entry_convert"),
    path("screening/entries/<int:pk>/backlog/", views.entry_backlog, name="entry_backlog"),
    path("screening/entries/<int:pk>/status/", views.entry_status, name="entry_status"),
]
