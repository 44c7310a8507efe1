"""The DRF API of Part E under ``/api/licenses/`` (views, serializers, errors, correlation ids)."""
