"""Events carry their category into the roll-ups (indicators by category)."""

from __future__ import annotations

from pingan.cases.models import CaseRollup
from pingan.events.models import Event
from tests.events.factories import kecheng_events


def test_intake_records_the_category_for_the_rollups(tree, units, personas):
    kecheng_events(personas.admin)
    event = Event.objects.select_related("case").first()
    assert event is not None
    assert event.case.data["category_id"] == event.category_id
    assert CaseRollup.objects.filter(category_id=event.category_id).exists()
