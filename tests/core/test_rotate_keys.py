"""Key rotation: re-encrypt every encrypted column with the newest key; blind indexes on request."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from pingan.core import crypto
from pingan.core.choices import AuditAction
from pingan.core.models import AuditEntry
from pingan.people.models import Person
from pingan.people.services import create_person, find_people

pytestmark = pytest.mark.django_db

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def raw_tokens(pk: int) -> tuple[str, ...]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, id_number, phone, address FROM people_person WHERE id = %s", [pk])
        return cursor.fetchone()


@pytest.fixture
def clear_fernet():
    crypto._fernet.cache_clear()
    yield
    crypto._fernet.cache_clear()


def test_rotation_moves_every_token_to_the_new_key(personas, tree, clear_fernet):
    with override_settings(FIELD_KEYS=[KEY_A]):
        person = create_person(
            personas.admin,
            name="张三",
            id_number="11010519491231002X",
            phone="13812345678",
            address="江山市虎山街道鹿溪南路12号",
            jurisdiction=tree.jiangshan_village,
        )
        before = raw_tokens(person.pk)
    with override_settings(FIELD_KEYS=[KEY_B, KEY_A]):
        crypto._fernet.cache_clear()
        call_command("rotate_keys", "--batch-size", "1")
        after = raw_tokens(person.pk)
        assert all(a != b for a, b in zip(after, before, strict=True))
        # A second run finds nothing left to do.
        call_command("rotate_keys")
        assert raw_tokens(person.pk) == after
    with override_settings(FIELD_KEYS=[KEY_B]):
        crypto._fernet.cache_clear()
        again = Person.objects.get(pk=person.pk)
        assert (again.name, again.id_number, again.phone) == ("张三", "11010519491231002X", "+8613812345678")
    entries = AuditEntry.objects.filter(action=AuditAction.KEY_ROTATION).order_by("id")
    assert entries.count() == 2
    assert entries[0].detail["rotated"]["people.Person"] == 4
    assert entries[1].detail["rotated"]["people.Person"] == 0


def test_blind_index_rotation(personas, tree, settings):
    person = create_person(
        personas.admin,
        name="李四",
        id_number="11010519491231002X",
        phone="13812345678",
        jurisdiction=tree.jiangshan_village,
    )
    settings.BLIND_INDEX_KEY = "another-blind-index-key"
    assert not find_people(personas.admin, id_number="11010519491231002X").exists()
    call_command("rotate_keys", "--blind-index")
    assert list(find_people(personas.admin, id_number="11010519491231002X")) == [person]
    assert list(find_people(personas.admin, phone="138 1234 5678")) == [person]
    entry = AuditEntry.objects.get(action=AuditAction.KEY_ROTATION)
    assert entry.detail["blind_index"] == {"people": 1}
