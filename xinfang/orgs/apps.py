from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "xinfang.orgs"
    label = "orgs"
    verbose_name = "组织机构"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from xinfang.cases import access
        from xinfang.orgs.models import Unit

        # A new or moved unit changes every subtree above it.
        post_save.connect(access.clear_cache, sender=Unit, dispatch_uid="orgs.unit_saved")
        post_delete.connect(access.clear_cache, sender=Unit, dispatch_uid="orgs.unit_deleted")
