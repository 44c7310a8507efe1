"""The API's URLs (Part E): exact paths, no trailing slash, ``<str:>`` ids."""

from django.urls import path

from . import views

app_name = "eucora_license_api"

urlpatterns = [
    path("summary", views.SummaryView.as_view(), name="summary"),
    path("skus", views.SkuListView.as_view(), name="skus"),
    path("skus/<str:sku>", views.SkuDetailView.as_view(), name="sku"),
    path("snapshots", views.SnapshotsView.as_view(), name="snapshots"),
    path("alerts", views.AlertsView.as_view(), name="alerts"),
    path("recommendations", views.RecommendationsView.as_view(), name="recommendations"),
    path("evidence/<str:snapshot_hash>", views.EvidenceView.as_view(), name="evidence"),
    path("evidence/<str:snapshot_hash>/download", views.EvidenceDownloadView.as_view(), name="evidence-download"),
    path("entitlements", views.EntitlementsView.as_view(), name="entitlements"),
    path("proposals", views.ProposalsView.as_view(), name="proposals"),
    path("proposals/<str:proposal_id>/approve", views.ProposalApproveView.as_view(), name="proposal-approve"),
    path("proposals/<str:proposal_id>/reject", views.ProposalRejectView.as_view(), name="proposal-reject"),
    path("reconcile/run", views.ReconcileRunView.as_view(), name="reconcile-run"),
    path("import", views.ImportView.as_view(), name="import"),
    path("rulesets", views.RulesetsView.as_view(), name="rulesets"),
    path("agents/<str:agent>/run", views.AgentRunView.as_view(), name="agent-run"),
    path("audit", views.AuditView.as_view(), name="audit"),
    path("audit/verify", views.AuditVerifyView.as_view(), name="audit-verify"),
]
