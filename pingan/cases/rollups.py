"""Roll-ups kept current on each transition (ARCHITECTURE principle 7). Filled in by the indicators work."""

from __future__ import annotations

from typing import Any


def apply(case: Any, step: Any, previous: dict | None) -> None:
    """Update the roll-up rows for one step (called inside the transition's transaction)."""
    return None
