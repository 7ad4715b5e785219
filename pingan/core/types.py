"""Types shared by views and API functions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    # Only for the checker: accounts.models imports core, core must not import accounts.
    from pingan.accounts.models import User


class AuthedRequest(HttpRequest):
    """A request that passed authentication (``login_required``, or the API's ``django_auth``).

    Annotating a view's ``request`` with it tells mypy that ``request.user`` is our ``User``,
    not ``User | AnonymousUser``. It is an annotation only: nothing creates one, and
    django-ninja recognises the request parameter by its name, not its type.
    """

    user: User
