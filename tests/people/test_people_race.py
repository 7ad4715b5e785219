"""Two registrations of one ID number at once: the database constraint keeps one, the other gets a clear error."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from pingan.people import services
from pingan.people.models import Person

ID_NUMBER = "330802199001011232"


def test_second_create_of_same_id_loses_the_race_with_a_field_error(tree, personas, monkeypatch):
    services.create_person(
        personas.admin, name="王五", id_number=ID_NUMBER, jurisdiction=tree.kecheng_village
    )
    real_clean = services.clean_person_fields

    def clean_without_duplicate_check(values, *, exclude_pk=None):
        # As if the other request had not yet committed when this one checked.
        cleaned = real_clean({**values, "id_number": ""}, exclude_pk=exclude_pk)
        first = Person.objects.get()
        return {**cleaned, "id_number": ID_NUMBER, "id_number_index": first.id_number_index}

    monkeypatch.setattr(services, "clean_person_fields", clean_without_duplicate_check)
    with pytest.raises(ValidationError) as err:
        services.create_person(
            personas.admin, name="王五", id_number=ID_NUMBER, jurisdiction=tree.kecheng_village
        )
    assert "id_number" in err.value.error_dict
    assert Person.objects.count() == 1


def test_people_without_id_number_do_not_collide(tree, personas):
    for name in ("甲", "乙"):
        services.create_person(
            personas.admin, name=name, phone="13812345678", jurisdiction=tree.kecheng_village
        )
    assert Person.objects.count() == 2
