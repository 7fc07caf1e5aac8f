from planboard import roles


def user_roles(request):
    """Expose the user's roles to every template (navigation shows what the role may use)."""
    user = request.user
    return {
        "is_leader": roles.is_leader(user),
        "is_supervisor": roles.is_supervisor(user),
        "is_staff_member": roles.is_staff_member(user),
    }
