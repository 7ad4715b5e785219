"""Working-day calendar (stub: being written)."""


def invalidate() -> None:
    pass
