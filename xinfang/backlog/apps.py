from django.apps import AppConfig


class BacklogConfig(AppConfig):
    name = "xinfang.backlog"
    label = "backlog"
    verbose_name = "积案化解"

    def ready(self) -> None:
        from xinfang.backlog import receivers  # noqa: F401  (connects the signal receivers)
