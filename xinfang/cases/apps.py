import threading

from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "xinfang.cases"
    label = "cases"
    verbose_name = "信访事项"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from xinfang.cases.models import HolidayOverride
        from xinfang.cases.validators import warm_up

        # A holiday override changes every process's work_calendar() (the rule cache's version).
        post_save.connect(
            _holiday_changed, sender=HolidayOverride, dispatch_uid="cases.holiday_saved"
        )
        post_delete.connect(
            _holiday_changed, sender=HolidayOverride, dispatch_uid="cases.holiday_deleted"
        )
        # The resident-ID region table takes 0.2 s to parse; read it while the process starts
        # rather than in the first citizen's registration or in an import's checking process.
        threading.Thread(target=warm_up, name="xinfang-warm-up", daemon=True).start()


def _holiday_changed(**kwargs) -> None:
    from xinfang.orgs import rulecache

    rulecache.bump(rulecache.CALENDAR)
