from django.urls import path

from xinfang.backlog import action_views, screening_views, views

app_name = "backlog"
urlpatterns = [
    path("", views.board, name="board"),
    path("flag/", views.flag, name="flag"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/do/<str:action>/", action_views.act, name="act"),
    path("<int:pk>/report.docx", views.report, name="report"),
    path("actions/<int:pk>/done/", action_views.action_done, name="action_done"),
    path("screening/", screening_views.rounds, name="rounds"),
    path("screening/template.xlsx", screening_views.round_template, name="round_template"),
    path("screening/<int:pk>/", screening_views.round_detail, name="round"),
    path("screening/<int:pk>/import/", screening_views.round_import, name="round_import"),
    path(
        "screening/entries/<int:pk>/convert/", screening_views.entry_convert, name="entry_convert"
    ),
    path(
        "screening/entries/<int:pk>/backlog/", screening_views.entry_backlog, name="entry_backlog"
    ),
    path("screening/entries/<int:pk>/status/", screening_views.entry_status, name="entry_status"),
]
