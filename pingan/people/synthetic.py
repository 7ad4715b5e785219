"""Synthetic residents for the demo and tests: plausible, checksum-valid, entirely made up.

``fake_people`` makes plain dicts quickly; ``bulk_create_people`` encrypts and indexes them
in bulk (the demo loads thousands of people in seconds without going through per-row services).
Everything here is fiction: no real person's data is used.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from pingan.core import audit
from pingan.core.choices import AuditAction
from pingan.core.idnumber import make_id_number
from pingan.geo.models import Jurisdiction
from pingan.people.models import Person
from pingan.people.services import id_index, phone_index

# Common surnames, the most frequent repeated so that they come up more often; the tail
# includes names frequent in western Zhejiang (毛, 姜, 祝, 徐, 郑, 周).
SURNAMES = (
    "王王王李李李张张张刘刘陈陈杨杨黄赵吴周周徐徐孙马朱胡郭何高林罗郑郑梁谢宋唐许韩冯邓曹彭曾肖田董"
    "袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙"
    "史陶黎贺顾毛毛毛郝龚邵万钱严武戴莫孔向汤祝祝柴占"
)
COMPOUND_SURNAMES = ("欧阳", "诸葛", "司马", "上官")
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞建国志坚文俊浩宇轩峰海波林东晨阳旭立新永春荣德"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英华玲萍红燕梅莉兰琴云洁琳雪倩婷颖佳欣怡悦晓月慧丹凤"
# fmt: off
ROADS = (
    "鹿溪南路", "鹿溪北路", "中山路", "解放路", "人民路", "府山路", "新安路", "城南大道", "文化路", "江滨路",
    "振兴路", "学院路", "花园路", "信安大道", "白云路", "和平路", "建设路", "荷花路", "南湖路",
)
# fmt: on
# Mobile network prefixes of the national numbering plan (three operators).
MOBILE_PREFIXES = tuple(
    str(p) for p in (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, 166, 176, 177, 178)
) + tuple(str(p) for p in (*range(180, 190), 198, 199))
BIRTH_FIRST = date(1940, 1, 1)
BIRTH_LAST = date(2008, 12, 31)


def _place_names(jurisdictions: Sequence[Jurisdiction]) -> dict[str, str]:
    """code → name for every county and township above the given nodes (one query)."""
    codes = set()
    for j in jurisdictions:
        codes.add(j.code[:6])
        if len(j.code) >= 9:
            codes.add(j.code[:9])
    return dict(Jurisdiction.objects.filter(code__in=codes).values_list("code", "name"))


def _name(rng: random.Random, sex: str) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    chars = MALE_CHARS if sex == "M" else FEMALE_CHARS
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.75 else "")
    return surname + given


def _address(rng: random.Random, j: Jurisdiction, names: dict[str, str]) -> str:
    county = names.get(j.code[:6], j.name)
    township = names.get(j.code[:9], "") if len(j.code) >= 9 else ""
    number = rng.randint(1, 300)
    if j.name.endswith("村"):
        return f"{county}{township}{j.name}{number}号"
    return f"{county}{township}{rng.choice(ROADS)}{number}号"


def fake_people(n: int, jurisdictions: Sequence[Jurisdiction], seed: int = 0) -> list[dict[str, Any]]:
    """``n`` made-up residents spread over ``jurisdictions``, reproducible for a given seed.

    Each dict has name, id_number (checksum-valid, area code of the node's county, born
    1940–2008), phone (a mobile), address, jurisdiction, sex and birth_year.
    """
    if n and not jurisdictions:
        raise ValueError("fake_people needs at least one jurisdiction")
    rng = random.Random(seed)
    names = _place_names(jurisdictions)
    span = (BIRTH_LAST - BIRTH_FIRST).days
    used: set[str] = set()
    people: list[dict[str, Any]] = []
    while len(people) < n:
        j = jurisdictions[rng.randrange(len(jurisdictions))]
        birth = BIRTH_FIRST + timedelta(days=rng.randrange(span + 1))
        seq = rng.randrange(1000)
        # GB 11643: an odd sequence code is a man, an even one a woman.
        sex = "M" if seq % 2 else "F"
        number = make_id_number(j.code[:6], birth, seq)
        if number in used:
            continue
        used.add(number)
        people.append(
            {
                "name": _name(rng, sex),
                "id_number": number,
                "phone": rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
                "address": _address(rng, j, names),
                "jurisdiction": j,
                "sex": sex,
                "birth_year": birth.year,
            }
        )
    return people


def _e164(phone: str) -> str:
    """Synthetic mobiles are 11 valid digits; skip the (slow) general parser."""
    return phone if phone.startswith("+") else f"+86{phone}" if phone else ""


def bulk_create_people(rows: Iterable[dict[str, Any]], batch_size: int = 1000) -> int:
    """Encrypt, index and insert rows from ``fake_people`` in bulk; skip ID numbers already registered.

    Returns the number of people created. Writes one audit entry for the whole load.
    """
    objects: list[Person] = []
    for row in rows:
        phone = _e164(row.get("phone", ""))
        jurisdiction = row["jurisdiction"]
        number = row.get("id_number", "")
        objects.append(
            Person(
                name=row["name"],
                id_number=number,
                id_number_index=id_index(number),
                phone=phone,
                phone_index=phone_index(phone),
                address=row.get("address", ""),
                sex=row.get("sex", ""),
                birth_year=row.get("birth_year"),
                jurisdiction=jurisdiction,
                area_code=jurisdiction.code,
            )
        )
    with transaction.atomic():
        objects = _without_registered(objects)
        Person.objects.bulk_create(objects, batch_size=batch_size)
        audit.record(AuditAction.IMPORT, detail={"kind": "people", "synthetic": True, "count": len(objects)})
    return len(objects)


def _without_registered(objects: list[Person]) -> list[Person]:
    indexes = [p.id_number_index for p in objects if p.id_number_index]
    existing: set[str] = set()
    for start in range(0, len(indexes), 500):
        chunk = indexes[start : start + 500]
        existing.update(
            Person.objects.filter(id_number_index__in=chunk).values_list("id_number_index", flat=True)
        )
    return [p for p in objects if not p.id_number_index or p.id_number_index not in existing]
