from django.urls import path

from xinfang.supervision import views

app_name = "supervision"
urlpatterns = [
    path("", views.orders, name="orders"),
    path("<int:pk>/", views.order_detail, name="order"),
    path("<int:pk>/feedback/", views.feedback, name="feedback"),
    path("<int:pk>/close/", views.close, name="close"),
    path("case/<int:case_pk>/issue/", views.issue, name="issue"),
    path("case/<int:case_pk>/opinion/", views.opinion, name="opinion"),
]
