"""The ledger's pages, in the `cases` namespace at their old addresses (/cases/export.xlsx,
/cases/import/): xinfang/urls.py joins them to the matters' routes, so cases/ imports nothing
from here."""

from django.urls import path

from xinfang.ledger import views

urlpatterns = [
    path("export.xlsx", views.queue_export, name="export"),
    path("import/", views.import_page, name="import"),
]
