import threading

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "xinfang.cases"
    label = "cases"
    verbose_name = "信访事项"

    def ready(self) -> None:
        from xinfang.cases import signals  # noqa: F401
        from xinfang.cases.validators import warm_up

        # The resident-ID region table takes 0.2 s to parse; read it while the process starts
        # rather than in the first citizen's registration or in an import's checking process.
        threading.Thread(target=warm_up, name="xinfang-warm-up", daemon=True).start()
