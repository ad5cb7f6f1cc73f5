from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "xinfang.orgs"
    label = "orgs"
    verbose_name = "组织机构"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from xinfang.orgs.models import Unit
        from xinfang.orgs.selectors import units_changed

        # A new, changed or deleted unit changes every subtree above it, in every process.
        post_save.connect(units_changed, sender=Unit, dispatch_uid="orgs.unit_saved")
        post_delete.connect(units_changed, sender=Unit, dispatch_uid="orgs.unit_deleted")
