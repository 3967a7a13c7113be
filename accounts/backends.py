"""Log in with a username or an email address; admin permissions from the user's roles."""

from django.contrib.auth.backends import BaseBackend, ModelBackend

from accounts.models import Membership, User
from sofinance.permissions import admin_model_permissions


class EmailOrUsernameBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        login = username or kwargs.get(User.USERNAME_FIELD) or kwargs.get("email")
        if not login or password is None:
            return None
        user = User.objects.filter(username=login).first()
        if user is None and "@" in login:
            user = User.objects.filter(email__iexact=login).first()
        if user is None:
            # Run the hasher anyway so a missing user takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class RolePermissionBackend(BaseBackend):
    """Model permissions from the user's roles (sofinance.permissions.ADMIN_MODEL_PERMISSIONS):
    a staff member of a company needs no permission assigned by hand to use the admin. The union
    over their companies opens the admin's pages; each page still checks the role in the company
    of the rows it shows (sofinance.admin), so a viewer in one company and an accountant in
    another changes only the second one's books."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        cached = getattr(user_obj, "_sofinance_role_perms", None)
        if cached is None:
            roles = set(Membership.objects.filter(user_id=user_obj.pk).values_list("role", flat=True))
            cached = set().union(*(admin_model_permissions(role) for role in roles)) if roles else set()
            user_obj._sofinance_role_perms = cached
        return cached

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return any(perm.startswith(f"{app_label}.") for perm in self.get_all_permissions(user_obj))
