from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "xinfang.ops"
    label = "ops"
    verbose_name = "运维：备份、查看记录、保存期限"
