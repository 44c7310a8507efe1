"""The five D1 roles as Django groups (a user's roles are the groups it belongs to)."""

from typing import Any

from django.db import migrations

ROLES = ("license_admin", "license_auditor", "ops_manager", "agent_operator", "viewer")


def create_roles(apps: Any, schema_editor: Any) -> None:
    group = apps.get_model("auth", "Group")
    for name in ROLES:
        group.objects.get_or_create(name=name)


def remove_roles(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("eucora_license_django", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
