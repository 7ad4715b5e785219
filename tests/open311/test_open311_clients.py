"""API clients: a key shown once and stored as a keyed hash, re-issued, switched off; command and admin."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from pingan.accounts.choices import Role
from pingan.core.models import AuditEntry
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction
from pingan.open311.formats import Open311Error
from pingan.open311.models import ApiClient
from pingan.open311.services import authenticate, create_client, hash_key, issue_key, save_client
from tests.conftest import login
from tests.open311.conftest import good_report, post


def test_new_client_gets_a_key_stored_only_as_a_keyed_hash(tree, personas):
    client, key = create_client(name="柯城随手拍", jurisdiction=tree.kecheng, actor=personas.admin)
    assert len(key) == 40
    assert client.key_prefix == key[:8] and client.key_hash == hash_key(key)
    assert key not in client.key_hash
    assert authenticate(key) == client
    assert ApiClient.objects.get().last_used_at is not None
    entry = AuditEntry.objects.get(target_type="open311.apiclient")
    assert (entry.action, entry.actor) == ("create", personas.admin)
    assert key not in str(entry.detail) and key not in entry.target_label


def test_client_files_through_a_scoped_system_user_that_cannot_log_in(tree):
    client, _key = create_client(name="柯城随手拍", jurisdiction=tree.kecheng)
    user = client.user
    assert user.role == Role.DISPATCHER and user.is_active
    assert not user.has_usable_password()
    assert list(user.scope_jurisdictions.all()) == [tree.kecheng]
    assert user.full_name == "Open311·柯城随手拍"


def test_reissued_key_replaces_the_old_one(tree):
    client, old = create_client(name="柯城随手拍", jurisdiction=tree.kecheng)
    new = issue_key(client)
    assert new != old
    assert authenticate(new) == client
    with pytest.raises(Open311Error) as caught:
        authenticate(old)
    assert caught.value.status == 403
    assert AuditEntry.objects.filter(action="key_rotation").count() == 1


def test_switched_off_client_switches_off_its_user(tree):
    client, key = create_client(name="柯城随手拍", jurisdiction=tree.kecheng)
    client.active = False
    save_client(client, fields=["active"])
    client.user.refresh_from_db()
    assert client.user.is_active is False
    with pytest.raises(Open311Error):
        authenticate(key)


def test_client_jurisdiction_must_belong_to_this_installation(tree):
    huangshan = Jurisdiction.objects.create(code="341000", name="黄山市", level=Level.CITY)
    with pytest.raises(ValidationError) as caught:
        create_client(name="黄山", jurisdiction=huangshan)
    assert set(caught.value.message_dict) == {"jurisdiction"}
    create_client(name="柯城随手拍", jurisdiction=tree.kecheng)
    with pytest.raises(ValidationError) as caught:
        create_client(name="柯城随手拍", jurisdiction=tree.jiangshan)
    assert set(caught.value.message_dict) == {"name"}


def test_command_prints_a_working_key_once(services, tree):
    out, err = io.StringIO(), io.StringIO()
    call_command("open311_client", "江山掌上通", "--jurisdiction", "330881", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert len(key) == 40 and "江山掌上通" in err.getvalue()
    client = authenticate(key)
    assert client.jurisdiction == tree.jiangshan
    out = io.StringIO()
    call_command("open311_client", "江山掌上通", "--rotate", stdout=out, stderr=io.StringIO())
    assert authenticate(out.getvalue().strip()) == client


def test_command_refuses_an_unknown_jurisdiction_or_client(tree):
    with pytest.raises(CommandError, match="--jurisdiction"):
        call_command("open311_client", "x", "--jurisdiction", "999999", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no Open311 client"):
        call_command("open311_client", "nobody", "--rotate", stdout=io.StringIO())


def test_admin_shows_the_new_key_once_and_it_works(services, tree, personas):
    browser = login(personas.admin)
    response = browser.post(
        "/admin/open311/apiclient/add/",
        {"name": "柯城随手拍", "jurisdiction": tree.kecheng.pk, "active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    (message,) = [str(m) for m in response.context["messages"] if "api_key" in str(m)]
    key = message.split("api_key：")[1].split(" ")[0]
    client = ApiClient.objects.get()
    assert client.key_prefix == key[:8]
    assert post(good_report(key)).status_code == 201
    # The list shows the prefix, never the key; the key is not shown again.
    listing = browser.get("/admin/open311/apiclient/").content.decode()
    assert client.key_prefix in listing and key not in listing


def test_admin_cannot_delete_a_client(tree, personas):
    client, _key = create_client(name="柯城随手拍", jurisdiction=tree.kecheng)
    response = login(personas.admin).post(f"/admin/open311/apiclient/{client.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert ApiClient.objects.filter(pk=client.pk).exists()
