from __future__ import annotations

from django.urls import path
from licenses import views

urlpatterns = [
    path("api/licenses/runs", views.RunsView.as_view(), name="license-runs"),
    path("api/licenses/summary", views.SummaryView.as_view(), name="license-summary"),
    path("api/licenses/skus", views.SkuListView.as_view(), name="license-skus"),
    path("api/licenses/skus/<str:sku_id>", views.SkuDetailView.as_view(), name="license-sku"),
    path("api/licenses/evidence/<str:snapshot_id>", views.EvidenceView.as_view(), name="license-evidence"),
]
