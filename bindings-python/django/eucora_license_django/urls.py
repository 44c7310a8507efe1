"""The app's URLs: include them at the project's root (``path("", include("eucora_license_django.urls"))``).

The API lives under ``api/licenses/``, the pages at the root (the dashboard is ``/``).
"""

from django.urls import URLPattern, URLResolver

app_name = "eucora_license"

urlpatterns: list[URLPattern | URLResolver] = [
]
