"""Template context for every page: whether the signed-in user is a data steward (for the intake navigation)."""

from django.utils.functional import SimpleLazyObject


def intake(request):
    def steward() -> bool:
        from ctdc.web.submissions.selectors import user_is_steward

        return user_is_steward(user=request.user)

    def administrator() -> bool:
        from ctdc.web.accounts.roles import user_is_administrator

        return user_is_administrator(request.user)

    return {"is_steward_nav": SimpleLazyObject(steward), "is_administrator_nav": SimpleLazyObject(administrator)}
