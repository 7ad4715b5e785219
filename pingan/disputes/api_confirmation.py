"""Placeholder router; the module's owner fills it."""

from ninja import Router

router = Router(tags=["disputes 矛盾纠纷"])
