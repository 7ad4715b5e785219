"""Request context: lets services record who did what, and from where, without passing the request."""

from __future__ import annotations

import contextvars
from typing import Any

_current_request: contextvars.ContextVar[Any] = contextvars.ContextVar("pingan_request", default=None)


def current_request() -> Any:
    return _current_request.get()


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


class ChineseFirstMiddleware:
    """The platform speaks Chinese unless the user chose otherwise (the language switch sets a
    cookie). Browsers on office PCs often send an English Accept-Language; ignore it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
