from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "xinfang.cases"
    label = "cases"
    verbose_name = "信访事项"

    def ready(self) -> None:
        from xinfang.cases import signals  # noqa: F401
