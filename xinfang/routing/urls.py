from django.urls import include, path

from xinfang.routing import views

app_name = "routing"
urlpatterns = [
    path("suggest", views.suggest, name="suggest"),
    path("cases/<int:pk>/panel/", views.case_panel, name="case_panel"),
    path("cases/<int:pk>/shown/", views.shown, name="shown"),
    path("cases/<int:pk>/take/", views.take, name="take"),
    path("cases/<int:pk>/merge/", views.merge, name="merge"),
    path("report/", views.report, name="report"),
    path("hot/", views.hot_issues, name="hot"),
    path("hot.xlsx", views.hot_export, name="hot_export"),
    path("versions/", include("xinfang.routing.version_views")),  # 模型版本 (administrators)
]
