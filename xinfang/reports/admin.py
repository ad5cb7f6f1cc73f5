from django.contrib import admin

from xinfang.reports.models import RateConfig


@admin.register(RateConfig)
class RateConfigAdmin(admin.ModelAdmin):
    list_display = ("__str__", "updated_at")
    fields = ("basically_weight", "response_weight", "resolution_weight", "satisfaction_weight")

    def has_add_permission(self, request) -> bool:
        return not RateConfig.objects.exists()  # one row of rules

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
