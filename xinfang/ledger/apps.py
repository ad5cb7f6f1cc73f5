from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "xinfang.ledger"
    label = "ledger"
    verbose_name = "台帐导入导出"
