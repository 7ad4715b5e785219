"""Locate (stub: being written)."""


def invalidate() -> None:
    pass
