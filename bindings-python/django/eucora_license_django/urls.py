"""The app's URLs: include them at the project's root (``path("", include("eucora_license_django.urls"))``).

The API lives under ``api/licenses/``, the pages at the root (the dashboard is ``/``).
"""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/licenses/", include("eucora_license_django.api.urls")),
    path("", include("eucora_license_django.pages.urls")),
]
