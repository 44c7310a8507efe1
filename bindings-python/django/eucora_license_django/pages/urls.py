"""The pages' URLs (namespace ``eucora_license``); the dashboard is the root."""

from django.urls import URLPattern, path

from . import views

app_name = "eucora_license"

urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("skus/<str:sku>", views.sku_page, name="sku"),
    path("evidence/<str:snapshot_hash>", views.evidence_page, name="evidence"),
    path("evidence/<str:snapshot_hash>/download", views.evidence_download, name="evidence_download"),
    path("approvals", views.approvals, name="approvals"),
    path("approvals/<str:proposal_id>/<str:decision>", views.decide, name="decide"),
    path("audit", views.audit, name="audit"),
    path("manage/catalog", views.admin_catalog, name="admin_catalog"),
    path("manage/entitlements/propose", views.propose_entitlement, name="propose_entitlement"),
    path("manage/integrations", views.admin_integrations, name="admin_integrations"),
    path("manage/import", views.upload, name="upload"),
    path("manage/reconcile", views.reconcile, name="reconcile"),
    path("manage/<str:kind>/save", views.catalog_write, name="catalog_write"),
    path("manage/versions", views.admin_versions, name="admin_versions"),
]
