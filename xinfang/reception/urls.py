from django.urls import path

from xinfang.reception import booking_views, views

app_name = "reception"
urlpatterns = [
    path("", views.rota, name="rota"),
    path("warnings", views.warnings_json, name="warnings"),
    path("day/<str:code>/<str:date>/", views.rota_day, name="rota_day"),
    path("records/", views.records, name="records"),
    path("records/new/", views.record_new, name="record_new"),
    path("records/<int:pk>/", views.record_detail, name="record"),
    path("instructions/", views.instructions, name="instructions"),
    path(
        "instructions/overdue/",
        views.instructions,
        {"show": "overdue"},
        name="instructions_overdue",
    ),
    path("instructions/done/", views.instructions, {"show": "done"}, name="instructions_done"),
    path(
        "instructions/<int:pk>/complete/", views.instruction_complete, name="instruction_complete"
    ),
    path("slots/", booking_views.slots, name="slots"),
    path("slots/<int:pk>/", booking_views.slot_detail, name="slot"),
    path("book/", booking_views.book, name="book"),
    path("book/done/<str:reference>/", booking_views.book_done, name="book_done"),
    path("book/cancel/", booking_views.book_cancel, name="book_cancel"),
    path("group-visits/", views.group_visits, name="group_visits"),
    path("feed/", views.feed_manage, name="feed_manage"),
    path("feed/<str:token>.ics", views.feed_ics, name="feed"),
    path("<str:code>/rota.ics", views.rota_ics, name="rota_ics"),
]
