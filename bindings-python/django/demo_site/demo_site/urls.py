"""Demo site URLs: the app's dashboard at ``/``, its API under ``/api/licenses/``."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("eucora_license_django.urls")),
]
