"""Drop the cached work calendar when an admin edits the holiday overrides."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from xinfang.cases.models import HolidayOverride


@receiver([post_save, post_delete], sender=HolidayOverride)
def _holiday_changed(**kwargs) -> None:
    from xinfang.cases.selectors import work_calendar

    work_calendar.cache_clear()
