"""EUCORA License for Django: a thin host around the ``eucora_license`` core.

The app owns storage (models), authentication (Django's), scheduling and the
LLM client; every number, decision and hash comes from the core (DESIGN Part E).
"""

__version__ = "0.1.0"
