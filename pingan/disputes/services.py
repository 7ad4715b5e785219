"""The disputes write gate (矛盾纠纷多元化解, DOMAIN §4): registering a dispute with its parties,
risk flags and police alert (民转刑, 人民调解法 §25), suggesting and assigning a mediation
organisation, consent (§17), sessions, the outcome with its agreement (§26, §28–30) and
escalation through the tiers (village → township → county).

A dispute is a Case of kind "dispute" with a Dispute row; every state change goes through
``pingan.cases.services.transition`` and each dispute-specific fact (consent, a session, the
police alert) appends a 备注 (COMMENT) step so the case timeline tells the whole story.

Decisions written down here (the rules live in this module and nowhere else):

* Parties are people of the register. A party given by ID number is looked up by blind
  index, first inside the actor's scope (``people.services.find_people``) and then in the
  whole register: a resident of another county can be a party, and refusing them would
  only say "already registered" about someone the actor cannot see. Nothing of that person
  is shown beyond the masked party on this dispute; their register entry is not changed.
  A party new to the register is created in the dispute's jurisdiction.
* Tier at registration: the level of the place (grid/village → 村社, township → 镇街, …);
  a flagged dispute (民转刑 risk) starts at least at the township (镇街首调).
* Suggestions: organisations that take the type, whose area covers the place (city-level
  ones included) and whose tier is not below the case's tier; the deepest first (就近化解),
  at the same depth the specialised ones (explicit list of types) first, then by open load;
  organisations at their capacity go last.
* Police alert: the police station(s) whose area is the nearest prefix of the dispute's
  area; if there is none, the county's public security department (a department unit of the
  county whose name holds "公安"). Nobody to alert → not marked, so a later call can retry.
* Escalation: the engine's ESCALATE returns the case to the desk (待派遣) at the higher
  tier, so the hand-over to the higher organisation is a DISPATCH (the contract's "TRANSFER"
  cannot follow ESCALATE in the common loop).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit, User
from pingan.cases import kinds, permissions
from pingan.cases import services as cases
from pingan.cases.choices import OPEN_STATUSES, Action, Channel, Status, Tier
from pingan.cases.models import Case
from pingan.core.idnumber import parse_id_number
from pingan.core.notify import notify
from pingan.core.scoping import code_prefix, covering_codes, in_scope
from pingan.disputes import kind as dispute_kind
from pingan.disputes.choices import Consent, DisputeType, Outcome, PartyRole, RiskFlag, Source
from pingan.disputes.models import Agreement, Dispute, DisputeParty, MediationOrg, MediationSession
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction
from pingan.people import services as people
from pingan.people.models import Person

logger = logging.getLogger(__name__)

KIND = "dispute"
MAX_PARTIES = 50
MAX_AMOUNT = Decimal("999999999999.99")  # Dispute.amount: 14 digits, 2 decimals

# Where a dispute came from → the engine's channel (disputes.md).
CHANNELS = {
    Source.WINDOW: Channel.WINDOW,
    Source.GRID: Channel.GRID,
    Source.POLICE_110: Channel.POLICE_110,
    Source.HOTLINE: Channel.HOTLINE,
    Source.COURT: Channel.WINDOW,
    Source.PETITION: Channel.WINDOW,
}
LEVEL_TIERS = {
    Level.GRID: Tier.VILLAGE,
    Level.VILLAGE: Tier.VILLAGE,
    Level.TOWNSHIP: Tier.TOWNSHIP,
    Level.COUNTY: Tier.COUNTY,
    Level.CITY: Tier.CITY,
    Level.PROVINCE: Tier.CITY,
}


@dataclass
class PartyIn:
    """A party as given at registration: an existing Person, or new person fields."""

    role: PartyRole | str
    person: Person | None = None
    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class OrgSuggestion:
    """A mediation organisation proposed for a dispute, its open load and why (in Chinese)."""

    org: MediationOrg
    open_count: int
    reason: str


# ---------------------------------------------------------------------------------------------
# Small shared rules


def org_tier(unit: Unit) -> Tier:
    """The tier an organisation works at, from the depth of its area code."""
    depth = len(code_prefix(unit.area_code))
    if depth >= 12:
        return Tier.VILLAGE
    if depth >= 9:
        return Tier.TOWNSHIP
    if depth >= 6:
        return Tier.COUNTY
    return Tier.CITY


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _org_of(unit: Any, field: str = "org_unit") -> MediationOrg:
    org = MediationOrg.objects.select_related("unit").filter(pk=getattr(unit, "pk", None)).first()
    if not isinstance(unit, Unit) or org is None or not unit.is_active:
        raise ValidationError({field: [_("请选择一个启用的调解组织")]})
    return org


def _check_takes(org: MediationOrg, dispute: Dispute, field: str = "org_unit") -> None:
    if not org.takes(dispute.dispute_type):
        raise ValidationError(
            {
                field: [
                    _("%(org)s不受理%(type)s")
                    % {"org": org.unit.name, "type": DisputeType(dispute.dispute_type).label}
                ]
            }
        )


def _rule(action: Action) -> kinds.Transition:
    rule = kinds.get(KIND).transition_for(action)
    assert rule is not None
    return rule


def _require_handling(dispute: Dispute, actor: Any, version: int | None = None) -> None:
    """Consent, sessions and the outcome belong to the organisation handling the dispute."""
    case = dispute.case
    permissions.check_actor(case, _rule(Action.REPORT), actor)
    if dispute.outcome:
        raise cases.IllegalTransition(_("调解结果已登记，不能再办理"))
    if case.status != Status.HANDLING:
        raise cases.IllegalTransition(
            _("案件当前为「%(status)s」，须由调解组织签收后办理") % {"status": Status(case.status).label}
        )
    if version is not None and version != case.version:
        raise cases.VersionConflict(_("该案件已被他人修改，请刷新后重试"))


# ---------------------------------------------------------------------------------------------
# Register


def register_dispute(
    *,
    actor: Any,
    dispute_type: str,
    source: str,
    jurisdiction: Jurisdiction,
    title: str,
    facts: str,
    parties: list[PartyIn],
    amount: Decimal | float | str | None = None,
    people_involved: int | None = None,
    violence_threat: bool = False,
    address: str = "",
    lat: float | None = None,
    lon: float | None = None,
    referral: str = "",
    court: Unit | None = None,
    court_case_number: str = "",
    procedure: str = "",
    referred_on: date | None = None,
    at: datetime | None = None,
) -> Dispute:
    """Register a dispute (登记) with its parties; flag 民转刑 risk and alert the police.

    Atomic: any invalid input raises one ValidationError naming every bad field
    (``parties[<i>].id_number`` …) and nothing is written.
    """
    _check_registrar(actor, jurisdiction)
    at = _now(at)
    errors: dict[str, list[Any]] = {}
    values = _clean_dispute(
        errors,
        dispute_type=dispute_type,
        source=source,
        title=title,
        facts=facts,
        amount=amount,
        lat=lat,
        lon=lon,
    )
    cleaned = _clean_parties(parties, errors, complete=values.get("source") != Source.POLICE_110)
    involved = _clean_people_involved(people_involved, len(cleaned), errors)
    referral_values = _clean_referral(
        errors, source, referral, court, court_case_number, procedure, referred_on, at
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        persons = _resolve_parties(actor, jurisdiction, cleaned)
        flags = _flags(
            [p.pk for p, _role in persons],
            at=at,
            violence=bool(violence_threat),
            people_involved=involved,
            party_count=len(persons),
        )
        tier = LEVEL_TIERS.get(Level(jurisdiction.level), Tier.TOWNSHIP)
        if flags:
            tier = max(tier, Tier.TOWNSHIP)  # 镇街首调 for a dispute at risk
        case = cases.register(
            KIND,
            actor=actor,
            title=values["title"],
            jurisdiction=jurisdiction,
            channel=CHANNELS[values["source"]],
            description=values["facts"],
            lat=lat,
            lon=lon,
            address=address,
            requester=next((p for p, role in persons if role == PartyRole.APPLICANT), None),
            policy=dispute_kind.policy_for(values["source"], referral, procedure),
            tier=tier,
            data={"dispute_type": values["dispute_type"]},
            at=at,
        )
        dispute = Dispute.objects.create(
            case=case,
            dispute_type=values["dispute_type"],
            source=values["source"],
            amount=values["amount"],
            people_involved=involved,
            violence_threat=bool(violence_threat),
            risk_flags=flags,
            **referral_values,
        )
        _save_parties(dispute, persons)
        if flags:
            alert_police(dispute, at=at, actor=actor)
    return dispute


def register_dispute_once(
    idempotency_key: str | None, *, request_values: dict[str, Any], **kwargs: Any
) -> tuple[Dispute, bool]:
    """``register_dispute`` made harmless to retry: (dispute, created).

    The Idempotency-Key mechanism of event intake (pingan.events): the key is stored with the
    case it created, per client ("disputes:user:<id>"), with a keyed fingerprint of the request;
    the same key with the same request returns the first dispute, with another request is
    refused (422 on Idempotency-Key). Concurrent retries are settled by the unique key.
    """
    from pingan.events import services as events
    from pingan.events.models import IdempotencyKey

    key = events.clean_key(idempotency_key)
    if key is None:
        return register_dispute(**kwargs), True
    actor = kwargs["actor"]
    owner = f"disputes:user:{actor.pk}"
    fingerprint = events.request_fingerprint(**request_values)
    first = IdempotencyKey.objects.filter(key=key, owner=owner).first()
    if first is not None:
        return Dispute.objects.get(pk=events.replay(first, fingerprint).pk), False
    try:
        with transaction.atomic():
            dispute = register_dispute(**kwargs)
            IdempotencyKey.objects.create(
                key=key, owner=owner, actor=actor, fingerprint=fingerprint, case=dispute.case
            )
    except IntegrityError:
        first = IdempotencyKey.objects.filter(key=key, owner=owner).first()
        if first is None:
            raise
        return Dispute.objects.get(pk=events.replay(first, fingerprint).pk), False
    return dispute, True


def _check_registrar(actor: Any, jurisdiction: Any) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_("请先登录"))
    if not isinstance(jurisdiction, Jurisdiction) or not in_scope(actor, jurisdiction.code):
        raise ValidationError({"jurisdiction": [_("区划不存在或不在您的数据范围内")]})


def _clean_dispute(errors: dict[str, list[Any]], **given: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        out["dispute_type"] = DisputeType(given["dispute_type"]).value
    except ValueError:
        errors["dispute_type"] = [_("未知的纠纷类型「%(v)s」") % {"v": given["dispute_type"]}]
    try:
        out["source"] = Source(given["source"]).value
    except ValueError:
        errors["source"] = [_("未知的纠纷来源「%(v)s」") % {"v": given["source"]}]
    out["title"] = " ".join(str(given["title"] or "").split())
    if not out["title"]:
        errors["title"] = [_("标题不能为空")]
    out["facts"] = str(given["facts"] or "").strip()
    if not out["facts"]:
        errors["facts"] = [_("请填写纠纷主要事实")]
    out["amount"] = _clean_amount(given["amount"], errors)
    if (given["lat"] is None) != (given["lon"] is None):
        errors["lat" if given["lat"] is None else "lon"] = [_("经纬度须同时提供")]
    return out


def _clean_amount(value: Any, errors: dict[str, list[Any]]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors["amount"] = [_("涉及金额须为数字")]
        return None
    if amount < 0 or amount > MAX_AMOUNT:
        errors["amount"] = [_("涉及金额须在 0 至 999,999,999,999.99 元之间")]
        return None
    return amount


def _clean_people_involved(value: int | None, party_count: int, errors: dict[str, list[Any]]) -> int:
    if value is None:
        return max(party_count, 2)
    if not isinstance(value, int) or value < max(party_count, 1):
        errors["people_involved"] = [_("涉及人数不能少于当事人人数（%(n)d）") % {"n": party_count}]
        return max(party_count, 2)
    return value


@dataclass
class _Party:
    index: int
    role: str
    person: Person | None
    fields: dict[str, Any]  # name, id_number (normalised), phone, address for a new person


def _clean_parties(parties: Any, errors: dict[str, list[Any]], complete: bool = True) -> list[_Party]:
    """Check every party; errors are keyed ``parties[<i>].<field>`` (the client's own names).

    ``complete``: at least one applicant and one respondent. A dispute pushed from a 110 call
    (警调联动) may start with the caller alone or nobody: the call holds no ID numbers, and
    the mediator adds the parties (``add_party``) before consent and agreement.
    """
    out: list[_Party] = []
    if not isinstance(parties, list | tuple) or len(parties) > MAX_PARTIES:
        errors["parties"] = [_("当事人最多 %(n)d 名") % {"n": MAX_PARTIES}]
        return out
    seen: set[tuple[str, Any]] = set()
    for i, given in enumerate(parties):
        party = _clean_party(i, given, errors)
        if party is None:
            continue
        key = ("person", party.person.pk) if party.person else ("id", party.fields["id_number"])
        if key in seen:
            field = "person_id" if party.person else "id_number"
            errors[f"parties[{i}].{field}"] = [_("同一当事人不能重复列入")]
            continue
        seen.add(key)
        out.append(party)
    roles = {p.role for p in out}
    both = {PartyRole.APPLICANT, PartyRole.RESPONDENT} <= roles
    if complete and not both and not any(k.startswith("parties[") for k in errors):
        errors["parties"] = [_("至少需要一名申请人和一名被申请人")]
    return out


def _clean_party(i: int, given: Any, errors: dict[str, list[Any]]) -> _Party | None:
    prefix = f"parties[{i}]"
    if not isinstance(given, PartyIn):
        errors[prefix] = [_("当事人信息格式错误")]
        return None
    try:
        role = PartyRole(given.role).value
    except ValueError:
        errors[f"{prefix}.role"] = [_("当事人身份须为申请人或被申请人")]
        return None
    if given.person is not None:
        if not isinstance(given.person, Person):
            errors[f"{prefix}.person_id"] = [_("当事人不存在")]
            return None
        return _Party(i, role, given.person, {})
    found: dict[str, Any] = {}
    raw_id = str(given.id_number or "").strip()
    if not raw_id:
        errors[f"{prefix}.id_number"] = [_("请填写当事人的公民身份号码")]
    else:
        try:
            found["id_number"] = parse_id_number(raw_id).number
        except ValidationError as exc:
            errors[f"{prefix}.id_number"] = exc.messages
    fields = {"name": given.name, "phone": given.phone, "address": given.address}
    try:
        people.clean_person_fields(fields)  # create_person checks them again when it writes
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors[f"{prefix}.{field}"] = messages
    if any(k.startswith(f"{prefix}.") for k in errors):
        return None
    return _Party(i, role, None, {**fields, **found})


def _clean_referral(
    errors: dict[str, list[Any]],
    source: str,
    referral: str,
    court: Any,
    court_case_number: str,
    procedure: str,
    referred_on: Any,
    at: datetime,
) -> dict[str, Any]:
    """Court referral (诉调对接): 委派 30 days, 委托 15 (ordinary) / 7 (summary) days."""
    referral = str(referral or "")
    procedure = str(procedure or "")
    if not referral:
        if source == Source.COURT:
            errors["referral"] = [_("法院来源的纠纷须注明诉前委派或诉中委托")]
        elif court is not None or court_case_number or procedure or referred_on:
            errors["referral"] = [_("填写了法院信息，请注明诉前委派或诉中委托")]
        return {}
    if source != Source.COURT:
        errors["source"] = [_("法院委派/委托的纠纷来源须为「法院委派/委托」")]
    if not isinstance(court, Unit) or court.kind != UnitKind.COURT:
        errors["court"] = [_("请选择委派/委托的法院")]
    if isinstance(referred_on, str):
        referred_on = parse_date(referred_on)
    if not isinstance(referred_on, date):
        errors["referred_on"] = [_("请填写委派/委托日期")]
        return {}
    if referred_on > timezone.localtime(at).date():
        errors["referred_on"] = [_("委派/委托日期不能晚于登记日期")]
        return {}
    from pingan.disputes import confirmation

    try:
        due = confirmation.referral_due(referred_on, referral, procedure)
    except ValidationError as exc:
        errors.update({k: list(v) for k, v in exc.message_dict.items()})
        return {}
    return {
        "referral": referral,
        "court": court,
        "court_case_number": str(court_case_number or "").strip()[:60],
        "procedure": procedure,
        "referred_on": referred_on,
        "referral_due": due,
    }


def _resolve_parties(
    actor: Any, jurisdiction: Jurisdiction, parties: list[_Party]
) -> list[tuple[Person, str]]:
    """Find each party in the register by ID number, or register them (inside the caller's transaction)."""
    out: list[tuple[Person, str]] = []
    seen: set[int] = set()
    for party in parties:
        person = party.person or _find_or_create(actor, jurisdiction, party)
        if person.pk in seen:
            field = "person_id" if party.person else "id_number"
            raise ValidationError({f"parties[{party.index}].{field}": [_("同一当事人不能重复列入")]})
        seen.add(person.pk)
        out.append((person, party.role))
    return out


def _find_or_create(actor: Any, jurisdiction: Jurisdiction, party: _Party) -> Person:
    number = party.fields["id_number"]
    found = people.find_people(actor, id_number=number).first()
    if found is None:
        # Outside the actor's scope: linked, not shown (see the module docstring).
        found = Person.objects.filter(id_number_index=people.id_index(number)).first()
    if found is not None:
        return found
    try:
        return people.create_person(actor, jurisdiction=jurisdiction, **party.fields)
    except ValidationError as exc:
        raise ValidationError(
            {f"parties[{party.index}].{k}": v for k, v in exc.message_dict.items()}
        ) from exc


def _save_parties(dispute: Dispute, persons: list[tuple[Person, str]]) -> None:
    order: dict[str, int] = dict(
        dispute.parties.values_list("role").annotate(n=Max("order")).values_list("role", "n").order_by()
    )
    rows = []
    for person, role in persons:
        order[role] = order.get(role, 0) + 1
        rows.append(DisputeParty(dispute=dispute, person=person, role=role, order=order[role]))
    DisputeParty.objects.bulk_create(rows)


def add_party(dispute: Dispute, *, actor: Any, party: PartyIn, version: int | None = None) -> DisputeParty:
    """Add a party to a dispute still being mediated (e.g. one pushed from a 110 call).

    Found or registered like the parties at registration; errors are keyed ``parties[0].<field>``.
    """
    case = dispute.case
    permissions.check_actor(case, _rule(Action.COMMENT), actor)
    if dispute.outcome or case.status not in OPEN_STATUSES:
        raise cases.IllegalTransition(_("调解已结束，不能再增加当事人"))
    errors: dict[str, list[Any]] = {}
    cleaned = _clean_parties([party], errors, complete=False)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        [(person, role)] = _resolve_parties(actor, case.jurisdiction, cleaned)
        if dispute.parties.filter(person=person).exists():
            raise ValidationError({"parties[0].id_number": [_("同一当事人不能重复列入")]})
        _save_parties(dispute, [(person, role)])
        note = _("增加当事人（%(role)s）") % {"role": PartyRole(role).label}
        cases.transition(case, Action.COMMENT, actor=actor, version=version, note=note)
        if role == PartyRole.APPLICANT and case.requester_id is None:
            Case.objects.filter(pk=case.pk).update(requester=person)
            case.requester = person
    return dispute.parties.get(person=person)


# ---------------------------------------------------------------------------------------------
# Risk flags (民转刑) and the police alert (人民调解法 §25)


def _flags(
    person_ids: list[int],
    *,
    at: datetime,
    violence: bool,
    people_involved: int,
    party_count: int,
    exclude: int | None = None,
) -> list[str]:
    """VIOLENCE: a threat of violence; REPEAT: a party of another dispute registered within
    DISPUTE_REPEAT_DAYS before; GROUP: DISPUTE_GROUP_SIZE people or parties or more."""
    flags = []
    if violence:
        flags.append(RiskFlag.VIOLENCE.value)
    since = at - timedelta(days=settings.DISPUTE_REPEAT_DAYS)
    earlier = DisputeParty.objects.filter(
        person_id__in=person_ids,
        dispute__case__registered_at__gte=since,
        dispute__case__registered_at__lte=at,
    ).exclude(dispute__case__status=Status.CANCELLED)
    if exclude is not None:
        earlier = earlier.exclude(dispute_id=exclude)
    if person_ids and earlier.exists():
        flags.append(RiskFlag.REPEAT.value)
    if max(people_involved, party_count) >= settings.DISPUTE_GROUP_SIZE:
        flags.append(RiskFlag.GROUP.value)
    return flags


def risk_flags(dispute: Dispute) -> list[str]:
    """The dispute's 民转刑 risk flags as its facts stand now (RiskFlag values)."""
    person_ids = list(dispute.parties.values_list("person_id", flat=True))
    return _flags(
        person_ids,
        at=dispute.case.registered_at,
        violence=dispute.violence_threat,
        people_involved=dispute.people_involved,
        party_count=len(person_ids),
        exclude=dispute.pk,
    )


def police_units(area_code: str) -> list[Unit]:
    """Who is told of a dispute at risk: the nearest police station(s) covering the area, else
    the county's public security department."""
    stations = list(
        Unit.objects.filter(
            kind=UnitKind.POLICE_STATION, is_active=True, area_code__in=covering_codes(area_code)
        ).order_by("id")
    )
    if stations:
        nearest = max(len(code_prefix(u.area_code)) for u in stations)
        return [u for u in stations if len(code_prefix(u.area_code)) == nearest]
    return list(
        Unit.objects.filter(
            kind=UnitKind.DEPARTMENT, is_active=True, area_code=area_code[:6], name__contains="公安"
        ).order_by("id")
    )


def alert_police(dispute: Dispute, at: datetime | None = None, *, actor: Any = None) -> bool:
    """Tell the police of a flagged dispute, once (police_alerted_at); True when this call did.

    ``actor`` (default: the registrar) signs the 备注 step on the timeline.
    """
    if not dispute.risk_flags or dispute.police_alerted_at is not None:
        return False
    case = dispute.case
    units = police_units(case.area_code)
    if not units:
        logger.warning("dispute %s flagged but no police unit covers %s", case.number, case.area_code)
        return False
    at = _now(at)
    flags = "、".join(str(RiskFlag(f).label) for f in dispute.risk_flags)
    with transaction.atomic():
        # Claimed with a conditional UPDATE: two callers never alert twice.
        if not Dispute.objects.filter(pk=dispute.pk, police_alerted_at__isnull=True).update(
            police_alerted_at=at
        ):
            return False
        dispute.police_alerted_at = at
        text = _("【民转刑风险】%(number)s %(type)s：%(flags)s，请辖区公安关注（人民调解法第二十五条）") % {
            "number": case.number,
            "type": DisputeType(dispute.dispute_type).label,
            "flags": flags,
        }
        notify(text, units=units, link=f"/cases/{case.pk}/", source=case)
        signer = actor or case.reporter
        if signer is not None:
            note = _("存在民转刑风险（%(flags)s），已通报%(units)s（人民调解法第二十五条）") % {
                "flags": flags,
                "units": "、".join(u.name for u in units),
            }
            cases.transition(case, Action.COMMENT, actor=signer, note=note, at=at)
    return True


# ---------------------------------------------------------------------------------------------
# Assignment


def open_counts(unit_ids: list[int]) -> dict[int, int]:
    """Open disputes per unit (cases of kind dispute in an open status, by responsible unit)."""
    rows = (
        Case.objects.filter(kind=KIND, status__in=OPEN_STATUSES, unit_id__in=unit_ids)
        .values("unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["unit_id"]: row["n"] for row in rows}


def suggest_orgs(dispute: Dispute, limit: int = 5) -> list[OrgSuggestion]:
    """Organisations for ``dispute`` by type, area, tier and current load (rules: module docstring)."""
    return suggest_orgs_for(dispute.dispute_type, dispute.case.area_code, dispute.case.tier, limit)


def suggest_orgs_for(dispute_type: str, area_code: str, tier: int, limit: int = 5) -> list[OrgSuggestion]:
    """The same, before a dispute exists (a 110 call waiting to be pushed)."""
    candidates = [
        org
        for org in MediationOrg.objects.select_related("unit__jurisdiction").filter(
            unit__is_active=True, unit__area_code__in=covering_codes(area_code)
        )
        if org.takes(dispute_type) and org_tier(org.unit) >= tier
    ]
    loads = open_counts([org.pk for org in candidates])

    def key(org: MediationOrg) -> tuple[bool, int, bool, int, int]:
        load = loads.get(org.pk, 0)
        depth = len(code_prefix(org.unit.area_code))
        return (load >= org.capacity, -depth, not org.dispute_types, load, org.pk)

    ranked = sorted(candidates, key=key)[: max(limit, 0)]
    return [
        OrgSuggestion(org, loads.get(org.pk, 0), _reason(org, dispute_type, loads.get(org.pk, 0)))
        for org in ranked
    ]


def _reason(org: MediationOrg, dispute_type: str, load: int) -> str:
    type_label = DisputeType(dispute_type).label
    parts = [
        _("专门受理%(type)s") % {"type": type_label} if org.dispute_types else _("受理各类纠纷"),
        _("辖区%(area)s覆盖纠纷发生地") % {"area": org.unit.jurisdiction.name},
        _("%(tier)s层级") % {"tier": org_tier(org.unit).label},
        _("在办 %(n)d 件（上限 %(cap)d 件）") % {"n": load, "cap": org.capacity},
    ]
    if org_tier(org.unit) == Tier.VILLAGE:
        parts.insert(2, _("就近就地化解"))
    return "；".join(str(p) for p in parts)


def assign(
    dispute: Dispute, *, actor: Any, org_unit: Unit, version: int | None = None, at: datetime | None = None
) -> Dispute:
    """派遣: hand the dispute to a mediation organisation that takes its type."""
    org = _org_of(org_unit)
    _check_takes(org, dispute)
    cases.transition(dispute.case, Action.DISPATCH, actor=actor, version=version, unit=org.unit, at=at)
    return dispute


def accept(
    dispute: Dispute,
    *,
    actor: Any,
    mediator: User | None = None,
    version: int | None = None,
    at: datetime | None = None,
) -> Dispute:
    """签收 by the organisation; the mediator is the actor (a mediator), else the one given,
    else the organisation's mediator with the fewest open disputes."""
    case = dispute.case
    chosen = _mediator_for(case, actor, mediator)
    with transaction.atomic():
        cases.transition(case, Action.ACCEPT, actor=actor, version=version, at=at)
        dispute.mediator = chosen
        dispute.save(update_fields=["mediator"])
    return dispute


def _mediator_for(case: Case, actor: Any, given: User | None) -> User | None:
    if getattr(actor, "role", None) == Role.MEDIATOR and actor.unit_id == case.unit_id:
        return actor
    if given is not None:
        if not (
            isinstance(given, User)
            and given.is_active
            and given.role == Role.MEDIATOR
            and given.unit_id == case.unit_id
        ):
            raise ValidationError({"mediator": [_("调解员须为承办调解组织的调解员")]})
        return given
    if case.unit_id is None:
        return None
    open_q = Q(mediated_disputes__case__status__in=OPEN_STATUSES)
    return (
        User.objects.filter(unit_id=case.unit_id, role=Role.MEDIATOR, is_active=True)
        .annotate(load=Count("mediated_disputes", filter=open_q))
        .order_by("load", "pk")
        .first()
    )


def escalate(
    dispute: Dispute,
    *,
    actor: Any,
    org_unit: Unit,
    note: str,
    version: int | None = None,
    at: datetime | None = None,
) -> Dispute:
    """提级: raise the dispute to a higher tier's organisation (village → township → county).

    ESCALATE (note required) puts the case back on the desk at the organisation's tier, then
    DISPATCH hands it over; the mediator and any recorded failure are cleared for the new
    organisation (the timeline keeps them).
    """
    case = dispute.case
    org = _org_of(org_unit)
    _check_takes(org, dispute)
    target = org_tier(org.unit)
    if target <= case.tier:
        raise ValidationError(
            {"org_unit": [_("须提级到高于「%(tier)s」层级的调解组织") % {"tier": Tier(case.tier).label}]}
        )
    if org.unit.area_code not in covering_codes(case.area_code):
        raise ValidationError({"org_unit": [_("该调解组织的辖区不包括纠纷发生地")]})
    if Agreement.objects.filter(dispute=dispute).exists():
        raise cases.IllegalTransition(_("已达成调解协议，不能提级"))
    at = _now(at)
    with transaction.atomic():
        cases.transition(case, Action.ESCALATE, actor=actor, version=version, note=note, tier=target, at=at)
        dispute.mediator, dispute.outcome, dispute.outcome_at = None, "", None
        dispute.save(update_fields=["mediator", "outcome", "outcome_at"])
        cases.transition(case, Action.DISPATCH, actor=actor, unit=org.unit, at=at)
    return dispute


# ---------------------------------------------------------------------------------------------
# Mediation: consent, sessions, outcome


def _consent(value: Any, field: str, errors: dict[str, list[Any]]) -> str:
    try:
        return Consent(value).value
    except ValueError:
        errors[field] = [_("意愿须为待征询、同意调解或拒绝调解")]
        return Consent.PENDING.value


def record_consent(
    dispute: Dispute,
    *,
    actor: Any,
    applicant: Consent | str,
    respondent: Consent | str,
    routes_told: str = "",
    version: int | None = None,
    at: datetime | None = None,
) -> Dispute:
    """Record both parties' answer to mediation (人民调解法 §17).

    A refusal ends mediation: outcome REFUSED, the legal routes told (§26, required), 处置反馈.
    """
    _require_handling(dispute, actor, version)
    _require_parties(dispute)
    errors: dict[str, list[Any]] = {}
    answers = (_consent(applicant, "applicant", errors), _consent(respondent, "respondent", errors))
    refused = Consent.REFUSED in answers
    if refused and not routes_told.strip():
        errors["routes_told"] = [
            _("当事人不同意调解的，须告知仲裁、行政、诉讼等途径（人民调解法第二十六条）")
        ]
    if errors:
        raise ValidationError(errors)
    at = _now(at)
    case = dispute.case
    summary = _("当事人意愿：申请人%(a)s，被申请人%(r)s") % {
        "a": Consent(answers[0]).label,
        "r": Consent(answers[1]).label,
    }
    with transaction.atomic():
        dispute.applicant_consent, dispute.respondent_consent, dispute.consent_at = *answers, at
        fields = ["applicant_consent", "respondent_consent", "consent_at"]
        if refused:
            dispute.outcome, dispute.outcome_at = Outcome.REFUSED, at
            dispute.routes_told = routes_told.strip()
            fields += ["outcome", "outcome_at", "routes_told"]
        dispute.save(update_fields=fields)
        if refused:
            note = _("%(summary)s。不同意调解，调解终止（人民调解法第十七条），已告知：%(routes)s") % {
                "summary": summary,
                "routes": dispute.routes_told,
            }
            cases.transition(
                case,
                Action.REPORT,
                actor=actor,
                version=version,
                note=note,
                step_data={"outcome": Outcome.REFUSED.value},
                at=at,
            )
        else:
            cases.transition(case, Action.COMMENT, actor=actor, version=version, note=summary, at=at)
    return dispute


def _require_parties(dispute: Dispute) -> None:
    roles = set(dispute.parties.values_list("role", flat=True))
    if not {PartyRole.APPLICANT, PartyRole.RESPONDENT} <= roles:
        raise ValidationError({"parties": [_("须先登记申请人和被申请人")]})


def _require_consent(dispute: Dispute) -> None:
    _require_parties(dispute)
    if not dispute.both_consent:
        raise ValidationError(
            {"consent": [_("双方当事人均同意调解后方可调解、达成协议（人民调解法第十七条）")]}
        )


def add_session(
    dispute: Dispute,
    *,
    actor: Any,
    at: datetime,
    place: str,
    party_ids: list[int],
    others: str = "",
    record: str,
    version: int | None = None,
) -> MediationSession:
    """Record one mediation session (调解记录): when, where, who attended, what was said."""
    _require_handling(dispute, actor, version)
    _require_consent(dispute)
    errors: dict[str, list[Any]] = {}
    if not isinstance(at, datetime) or timezone.is_naive(at):
        errors["at"] = [_("请填写调解时间（含时区）")]
    elif at < dispute.case.registered_at:
        errors["at"] = [_("调解时间不能早于纠纷登记时间")]
    place, others, record = str(place or "").strip(), str(others or "").strip(), str(record or "").strip()
    if not place or len(place) > 200:
        errors["place"] = [_("请填写调解地点（不超过 200 字）")]
    if len(others) > 300:
        errors["others"] = [_("其他参加人员不超过 300 字")]
    if not record:
        errors["record"] = [_("请填写调解笔录")]
    wanted = set(party_ids or [])
    attending = list(dispute.parties.filter(pk__in=wanted))
    if not wanted or len(attending) != len(wanted):
        errors["party_ids"] = [_("请选择本纠纷的到场当事人")]
    if errors:
        raise ValidationError(errors)
    note = _("调解：%(at)s 于%(place)s，到场当事人 %(n)d 人") % {
        "at": timezone.localtime(at).strftime("%Y-%m-%d %H:%M"),
        "place": place,
        "n": len(attending),
    }
    with transaction.atomic():
        session = MediationSession.objects.create(
            dispute=dispute, at=at, place=place, others=others, record=record, recorded_by=actor
        )
        session.parties.set(attending)
        cases.transition(dispute.case, Action.COMMENT, actor=actor, version=version, note=note)
    return session


AGREEMENT_TEXT_FIELDS = ("facts", "terms", "performance")


def _clean_agreement(agreement: Any, at: datetime) -> dict[str, Any]:
    """facts, terms, performance, perform_by, signed_on; keyed ``agreement.<field>`` on error."""
    given = agreement if isinstance(agreement, dict) else {}
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}
    for name in AGREEMENT_TEXT_FIELDS:
        out[name] = str(given.get(name) or "").strip()
        if not out[name]:
            errors[f"agreement.{name}"] = [_("调解协议须载明此项")]
    for name in ("perform_by", "signed_on"):
        value = given.get(name)
        if isinstance(value, str):
            value = parse_date(value.strip()) if value.strip() else None
        if isinstance(value, datetime) or not isinstance(value, date):
            errors[f"agreement.{name}"] = [_("请填写日期（YYYY-MM-DD）")]
        out[name] = value
    signed_on, perform_by = out["signed_on"], out["perform_by"]
    today = timezone.localtime(at).date()
    if isinstance(signed_on, date) and "agreement.signed_on" not in errors and signed_on > today:
        errors["agreement.signed_on"] = [_("协议生效日期 %(d)s 晚于今天") % {"d": signed_on.isoformat()}]
    if (
        isinstance(signed_on, date)
        and isinstance(perform_by, date)
        and not errors.keys() & {"agreement.signed_on", "agreement.perform_by"}
        and perform_by < signed_on
    ):
        errors["agreement.perform_by"] = [_("履行期限不能早于协议生效日期")]
    if errors:
        raise ValidationError(errors)
    return out


def agreement_number(case: Case) -> str:
    """A readable, unique agreement number: 调协字 + the case number."""
    return f"调协字{case.number}号"


def record_outcome(
    dispute: Dispute,
    *,
    actor: Any,
    outcome: Outcome | str,
    note: str = "",
    routes_told: str = "",
    agreement: dict[str, Any] | None = None,
    version: int | None = None,
    at: datetime | None = None,
) -> Dispute:
    """处置反馈: how mediation ended.

    SUCCESS needs both parties' consent and the agreement's facts, terms, performance,
    perform_by and signed_on; it creates the Agreement and opens judicial confirmation
    (§33). FAILURE and REFUSED need the legal routes told (§26).
    """
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise ValidationError({"outcome": [_("未知的调解结果「%(v)s」") % {"v": outcome}]}) from None
    _require_handling(dispute, actor, version)
    at = _now(at)
    terms: dict[str, Any] = {}
    if outcome == Outcome.SUCCESS:
        _require_consent(dispute)
        terms = _clean_agreement(agreement, at)
    elif outcome in (Outcome.FAILURE, Outcome.REFUSED) and not routes_told.strip():
        raise ValidationError(
            {"routes_told": [_("调解不成的，须告知仲裁、行政、诉讼等途径（人民调解法第二十六条）")]}
        )
    text = note.strip() or str(outcome.label)
    if routes_told.strip():
        text = _("%(text)s。已告知：%(routes)s") % {"text": text, "routes": routes_told.strip()}
    case = dispute.case
    with transaction.atomic():
        dispute.outcome, dispute.outcome_at, dispute.routes_told = outcome.value, at, routes_told.strip()
        dispute.save(update_fields=["outcome", "outcome_at", "routes_told"])
        made = None
        if outcome == Outcome.SUCCESS:
            try:
                with transaction.atomic():
                    made = Agreement.objects.create(dispute=dispute, number=agreement_number(case), **terms)
            except IntegrityError as exc:
                raise cases.IllegalTransition(_("该纠纷已有调解协议")) from exc
        # The hook of REPORT (police linkage feedback) reads the outcome saved above.
        cases.transition(
            case,
            Action.REPORT,
            actor=actor,
            version=version,
            note=text,
            step_data={"outcome": outcome.value},
            at=at,
        )
        if made is not None:
            from pingan.disputes import confirmation

            confirmation.open_confirmation(made, at=at)
    return dispute
