from django.apps import AppConfig


class BacklogConfig(AppConfig):
    name = "xinfang.backlog"
    label = "backlog"
    verbose_name = "积案化解"
