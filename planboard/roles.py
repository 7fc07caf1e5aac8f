"""Who a user is in planboard. Roles are Django groups; department staff are Department members."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    LEADER = "leader", _("Leader")
    SUPERVISOR = "supervisor", _("Supervision office")
    STAFF = "staff", _("Department staff")


def has_role(user, role: Role) -> bool:
    if not user.is_authenticated:
        return False
    # Cache the group names on the user object: templates ask several times per page.
    if not hasattr(user, "_planboard_roles"):
        user._planboard_roles = set(user.groups.values_list("name", flat=True))
    return role.value in user._planboard_roles


def is_leader(user) -> bool:
    return has_role(user, Role.LEADER)


def is_supervisor(user) -> bool:
    return has_role(user, Role.SUPERVISOR)


def is_staff_member(user) -> bool:
    return has_role(user, Role.STAFF)
