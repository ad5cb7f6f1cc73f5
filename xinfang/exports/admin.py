from django.contrib import admin

from xinfang.exports.models import ExportDownload, ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "kind",
        "status",
        "rows_done",
        "rows_total",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "kind")
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ExportDownload)
class ExportDownloadAdmin(admin.ModelAdmin):
    list_display = ("at", "user", "job", "rows")
    readonly_fields = ("at", "user", "job", "rows")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
