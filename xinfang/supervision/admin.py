from django.contrib import admin

from xinfang.supervision.models import CoHandlerOpinion, SupervisionOrder


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(admin.ModelAdmin):
    list_display = ("case", "unit", "issued_by", "issued_at", "deadline", "status")
    list_filter = ("status",)
    raw_id_fields = ("case",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # changed only through the services (each step is on the timeline)


@admin.register(CoHandlerOpinion)
class CoHandlerOpinionAdmin(admin.ModelAdmin):
    list_display = ("case", "unit", "by", "at")
    raw_id_fields = ("case",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False
