from django.contrib import admin

from xinfang.notify.models import Outbox


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "kind", "status", "attempts", "sent_at")
    list_filter = ("status", "channel", "kind")
    # Recipients and bodies are personal data: the staff page at /notify/ shows them masked.
    fields = readonly_fields = (
        "channel",
        "kind",
        "case",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
        "claimed_by",
        "claimed_until",
    )

    def has_add_permission(self, request) -> bool:
        return False
