"""The audit viewer's own log and the anonymised matters, read-only in the admin."""

from __future__ import annotations

from django.contrib import admin

from xinfang.ops.models import Anonymisation, AuditLogAccess


class _ReadOnly(admin.ModelAdmin):
    """Records of what happened: nobody adds, edits or deletes them by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLogAccess)
class AuditLogAccessAdmin(_ReadOnly):
    list_display = ("at", "user", "format", "rows", "filters")
    list_filter = ("format",)


@admin.register(Anonymisation)
class AnonymisationAdmin(_ReadOnly):
    list_display = ("at", "case")
    raw_id_fields = ("case",)
