"""Judicial confirmation (司法确认) of mediation agreements and court referral (诉调对接) deadlines.

人民调解法 §33: the parties may jointly apply to the court for judicial confirmation within
30 days of the agreement taking effect. The court decides whether to accept the application
within 3 days and rules within 15 days of accepting it, extendable once by 10 days
(民事诉讼法解释 / 最高人民法院关于人民调解协议司法确认程序的若干规定).

Every period is a statutory period counted by ``core.calendar.legal_period_end`` (民法典
§201–203): the first day is not counted, and a last day that falls on a holiday or rest day
moves to the next working day.

The extension (延长十日) lengthens the 15-day period itself: the ruling is then due at the end
of a 25-day period counted from acceptance, ``legal_period_end(accepted_on, days=25)``, not
10 days after a 15-day end that a holiday may already have moved.

Each change appends a 备注 (COMMENT) step on the dispute's case, so the case timeline shows
the confirmation; changes made by the system (lapse, result sent to the court) are written
as system notes, as the deadline sweep writes its cards.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts.choices import Role, UnitKind
from pingan.accounts.models import Unit
from pingan.cases import kinds
from pingan.cases import services as cases
from pingan.cases.choices import Action
from pingan.cases.models import Case, Step
from pingan.core import calendar
from pingan.core.notify import notify
from pingan.core.scoping import code_prefix
from pingan.disputes import kind as dispute_kind
from pingan.disputes.choices import ConfirmationStatus, Outcome, Procedure, Referral
from pingan.disputes.models import Agreement, Dispute, JudicialConfirmation

S = ConfirmationStatus

# 人民调解法 §33 and the court's periods (calendar days, statutory periods).
APPLY_DAYS = 30
ACCEPT_DAYS = 3
RULE_DAYS = 15
EXTENSION_DAYS = 10

# Who records the parties' joint application: the mediator and the centre's desk.
APPLY_ROLES = (Role.MEDIATOR, *kinds.OFFICE)
# The court's decisions are recorded by a user of that court (共享法庭) or by the centre's desk.
COURT_DESK_ROLES = kinds.OFFICE
BATCH = 1000


class ConfirmationStateError(cases.IllegalTransition):
    """The confirmation is not in a state that allows the change (answered 409)."""


# ---------------------------------------------------------------------------------------------
# Periods


def _period_end(start: date, days: int, field: str) -> date:
    try:
        return calendar.legal_period_end(start, days=days)
    except calendar.CalendarUnknownYear as exc:
        raise ValidationError({field: [str(exc)]}) from exc


def referral_due(referred_on: date | None, referral: str, procedure: str = "") -> date | None:
    """The day a court-referred mediation must be done (诉调对接), or None for no referral.

    委派 (before filing) 30 days; 委托 (after filing) 15 days in ordinary procedure, 7 in
    summary procedure; counted from ``referred_on`` as a statutory period.
    Raises ValidationError naming ``referral``, ``procedure`` or ``referred_on``.
    """
    if not referral:
        return None
    try:
        referral = Referral(referral)
    except ValueError:
        raise ValidationError({"referral": [_("法院委派/委托方式无效")]}) from None
    if procedure and procedure not in Procedure.values:
        raise ValidationError({"procedure": [_("审理程序无效")]})
    days = dispute_kind.referral_days(referral, procedure)
    if days is None:
        raise ValidationError({"procedure": [_("诉中委托须选择审理程序（普通程序或简易程序）")]})
    if referred_on is None:
        raise ValidationError({"referred_on": [_("请填写委派/委托日期")]})
    return _period_end(referred_on, days, "referred_on")


def current_deadline(confirmation: JudicialConfirmation) -> date | None:
    """The deadline the confirmation is waiting on now: apply, accept or rule by."""
    return {
        S.DUE: confirmation.apply_by,
        S.APPLIED: confirmation.accept_by,
        S.ACCEPTED: confirmation.rule_by,
    }.get(S(confirmation.status))


# ---------------------------------------------------------------------------------------------
# Helpers


def _fmt(day: date | None) -> str:
    return day.isoformat() if day else ""


def local_today() -> date:
    """Today in Asia/Shanghai: the one place the services and the API read it (tests fix it)."""
    return timezone.localdate()


def _dispute_of(confirmation: JudicialConfirmation) -> Dispute:
    return Dispute.objects.select_related("case", "case__unit", "court").get(
        pk=confirmation.agreement.dispute_id
    )


def _lock(confirmation: JudicialConfirmation, *allowed: str) -> JudicialConfirmation:
    """Re-read the confirmation under a row lock and check that its status allows the change."""
    locked = (
        JudicialConfirmation.objects.select_for_update(of=("self",))
        .select_related("agreement", "court")
        .get(pk=confirmation.pk)
    )
    if locked.status not in allowed:
        raise ConfirmationStateError(
            _("司法确认当前为「%(status)s」，不能办理该操作") % {"status": S(locked.status).label}
        )
    return locked


def _check_date(field: str, day: date, *, not_before: date, before_label: str) -> None:
    if day > local_today():
        raise ValidationError({field: [_("%(day)s 晚于今天，不能登记未来的日期") % {"day": _fmt(day)}]})
    if day < not_before:
        raise ValidationError(
            {
                field: [
                    _("%(day)s 早于%(what)s %(before)s")
                    % {"day": _fmt(day), "what": before_label, "before": _fmt(not_before)}
                ]
            }
        )


def _check_role(actor: Any, roles: tuple[str, ...], court_id: int | None = None) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录"))
    if actor.is_superuser or actor.role in roles:
        return
    if court_id is not None and actor.unit_id == court_id:
        return
    raise PermissionDenied(_("您的角色不能办理司法确认"))


def _note_on_case(case: Case, actor: Any, note: str) -> None:
    """A 备注 step by the user (transition checks the user sees the case)."""
    cases.transition(case, Action.COMMENT, actor=actor, note=note)


def _system_note(case: Case, note: str, at: datetime, data: dict[str, Any]) -> None:
    """A 备注 step written by the system (no user: transition() would refuse it), like the sweep's cards."""
    Step.objects.create(
        case=case,
        action=Action.COMMENT,
        from_status=case.status,
        to_status=case.status,
        at=at,
        unit=case.unit,
        note=note,
        data=data,
    )


def _late_suffix(day: date, due: date | None) -> str:
    if due is not None and day > due:
        return _("（已超过期限 %(due)s）") % {"due": _fmt(due)}
    return ""


# ---------------------------------------------------------------------------------------------
# Opening and the parties' application


def open_confirmation(agreement: Agreement, *, at: datetime | None = None) -> JudicialConfirmation:
    """Start tracking the 30-day window to apply (人民调解法 §33) for a signed agreement.

    Idempotent: a second call returns the existing record (its window recomputed while it
    is still waiting for the application, in case the signing date was corrected).
    """
    apply_by = _period_end(agreement.signed_on, APPLY_DAYS, "signed_on")
    with transaction.atomic():
        confirmation, created = JudicialConfirmation.objects.get_or_create(
            agreement=agreement, defaults={"apply_by": apply_by}
        )
        if not created:
            if confirmation.status == S.DUE and confirmation.apply_by != apply_by:
                confirmation.apply_by = apply_by
                confirmation.save(update_fields=["apply_by", "updated_at"])
            return confirmation
        case = Case.objects.select_related("unit").get(pk=agreement.dispute_id)
        note = _("调解协议 %(number)s 于 %(signed)s 生效，当事人可于 %(apply_by)s 前共同申请司法确认") % {
            "number": agreement.number,
            "signed": _fmt(agreement.signed_on),
            "apply_by": _fmt(apply_by),
        }
        _system_note(case, note, at or timezone.now(), {"confirmation": "opened", "apply_by": _fmt(apply_by)})
    return confirmation


def _check_court(court: Any, case: Case) -> Unit:
    """A court (or 共享法庭) of the dispute's county, or one whose area covers the dispute."""
    if not isinstance(court, Unit) or court.kind != UnitKind.COURT or not court.is_active:
        raise ValidationError({"court": [_("请选择法院或共享法庭")]})
    covers = case.area_code.startswith(code_prefix(court.area_code))
    same_county = court.area_code[:6] == case.area_code[:6]
    if not (covers or same_county):
        raise ValidationError({"court": [_("请选择纠纷所在县（市、区）的法院或共享法庭")]})
    return court


def apply_for_confirmation(
    confirmation: JudicialConfirmation, *, actor: Any, court: Any, applied_on: date, note: str = ""
) -> JudicialConfirmation:
    """Record the parties' joint application (共同申请) to ``court`` on ``applied_on``.

    Refused after the 30-day window (naming the window's last day) or before the agreement
    took effect. An application recorded late is accepted from 逾期未申请 when its date lies
    inside the window (the sweep lapsed it before the paper reached the platform).
    """
    _check_role(actor, APPLY_ROLES)
    with transaction.atomic():
        locked = _lock(confirmation, S.DUE, S.LAPSED)
        signed_on = locked.agreement.signed_on
        dispute = _dispute_of(locked)
        court = _check_court(court, dispute.case)
        _check_date("applied_on", applied_on, not_before=signed_on, before_label=_("协议生效日期"))
        if applied_on > locked.apply_by:
            raise ValidationError(
                {
                    "applied_on": [
                        _(
                            "申请日期 %(day)s 已超过司法确认申请期限 %(apply_by)s"
                            "（协议 %(signed)s 生效之日起 30 日内共同申请，人民调解法第三十三条）"
                        )
                        % {
                            "day": _fmt(applied_on),
                            "apply_by": _fmt(locked.apply_by),
                            "signed": _fmt(signed_on),
                        }
                    ]
                }
            )
        locked.status, locked.court, locked.applied_on = S.APPLIED, court, applied_on
        locked.accept_by = _period_end(applied_on, ACCEPT_DAYS, "applied_on")
        locked.note = note.strip()
        locked.save()
        text = _("司法确认：当事人于 %(day)s 共同向%(court)s申请，法院应于 %(accept_by)s 前决定是否受理") % {
            "day": _fmt(applied_on),
            "court": court.name,
            "accept_by": _fmt(locked.accept_by),
        }
        _note_on_case(dispute.case, actor, text)
        notify(
            _("司法确认申请 %(agreement)s（%(case)s）：请于 %(accept_by)s 前决定是否受理")
            % {
                "agreement": locked.agreement.number,
                "case": dispute.case.number,
                "accept_by": _fmt(locked.accept_by),
            },
            units=[court],
            link=f"/cases/{dispute.case.pk}/",
            source=locked,
        )
    return locked


# ---------------------------------------------------------------------------------------------
# The court's decisions


def _court_decided(locked: JudicialConfirmation, actor: Any, text: str) -> None:
    dispute = _dispute_of(locked)
    _note_on_case(dispute.case, actor, text)
    notify(
        _("司法确认 %(agreement)s（%(case)s）：%(text)s")
        % {"agreement": locked.agreement.number, "case": dispute.case.number, "text": text},
        units=[dispute.case.unit],
        users=[dispute.mediator],
        link=f"/cases/{dispute.case.pk}/",
        source=locked,
    )


def accept_application(
    confirmation: JudicialConfirmation, *, actor: Any, accepted_on: date
) -> JudicialConfirmation:
    """受理: the court accepted the application; the ruling is due 15 days later."""
    with transaction.atomic():
        locked = _lock(confirmation, S.APPLIED)
        _check_role(actor, COURT_DESK_ROLES, locked.court_id)
        assert locked.applied_on is not None
        _check_date("accepted_on", accepted_on, not_before=locked.applied_on, before_label=_("申请日期"))
        locked.status, locked.accepted_on = S.ACCEPTED, accepted_on
        locked.rule_by = _period_end(accepted_on, RULE_DAYS, "accepted_on")
        locked.save()
        text = _("司法确认：法院于 %(day)s 受理%(late)s，应于 %(rule_by)s 前作出裁定") % {
            "day": _fmt(accepted_on),
            "late": _late_suffix(accepted_on, locked.accept_by),
            "rule_by": _fmt(locked.rule_by),
        }
        _court_decided(locked, actor, text)
    return locked


def not_accept(
    confirmation: JudicialConfirmation, *, actor: Any, decided_on: date, note: str
) -> JudicialConfirmation:
    """不予受理: the court refused the application; the decision day is kept in ``ruled_on``."""
    if not note.strip():
        raise ValidationError({"note": [_("请填写不予受理的理由")]})
    with transaction.atomic():
        locked = _lock(confirmation, S.APPLIED)
        _check_role(actor, COURT_DESK_ROLES, locked.court_id)
        assert locked.applied_on is not None
        _check_date("decided_on", decided_on, not_before=locked.applied_on, before_label=_("申请日期"))
        locked.status, locked.ruled_on, locked.note = S.NOT_ACCEPTED, decided_on, note.strip()
        locked.save()
        text = _("司法确认：法院于 %(day)s 裁定不予受理%(late)s。理由：%(note)s") % {
            "day": _fmt(decided_on),
            "late": _late_suffix(decided_on, locked.accept_by),
            "note": locked.note,
        }
        _court_decided(locked, actor, text)
    return locked


def extend_ruling(
    confirmation: JudicialConfirmation, *, actor: Any, extended_on: date, note: str
) -> JudicialConfirmation:
    """延长审查期限: once, by 10 days, decided before the 15-day period ends (院长批准).

    The ruling is then due at the end of the 25-day period from acceptance (module docstring).
    """
    if not note.strip():
        raise ValidationError({"note": [_("请填写延长审查期限的理由")]})
    with transaction.atomic():
        locked = _lock(confirmation, S.ACCEPTED)
        _check_role(actor, COURT_DESK_ROLES, locked.court_id)
        if locked.extended:
            raise ValidationError({"extended_on": [_("审查期限只能延长一次")]})
        assert locked.accepted_on is not None and locked.rule_by is not None
        _check_date("extended_on", extended_on, not_before=locked.accepted_on, before_label=_("受理日期"))
        if extended_on > locked.rule_by:
            raise ValidationError(
                {
                    "extended_on": [
                        _("裁定期限 %(rule_by)s 已过，不能再延长") % {"rule_by": _fmt(locked.rule_by)}
                    ]
                }
            )
        locked.extended = True
        locked.rule_by = _period_end(locked.accepted_on, RULE_DAYS + EXTENSION_DAYS, "extended_on")
        locked.note = note.strip()
        locked.save()
        text = _(
            "司法确认：法院于 %(day)s 决定延长审查期限十日，应于 %(rule_by)s 前作出裁定。理由：%(note)s"
        ) % {
            "day": _fmt(extended_on),
            "rule_by": _fmt(locked.rule_by),
            "note": locked.note,
        }
        _court_decided(locked, actor, text)
    return locked


def rule(
    confirmation: JudicialConfirmation, *, actor: Any, ruled_on: date, confirmed: bool, note: str = ""
) -> JudicialConfirmation:
    """裁定: the agreement is confirmed valid (确认有效) or the application rejected (驳回申请)."""
    if not confirmed and not note.strip():
        raise ValidationError({"note": [_("驳回申请须填写理由")]})
    with transaction.atomic():
        locked = _lock(confirmation, S.ACCEPTED)
        _check_role(actor, COURT_DESK_ROLES, locked.court_id)
        assert locked.accepted_on is not None
        _check_date("ruled_on", ruled_on, not_before=locked.accepted_on, before_label=_("受理日期"))
        locked.status = S.CONFIRMED if confirmed else S.REJECTED
        locked.ruled_on = ruled_on
        locked.note = note.strip()
        locked.save()
        text = _("司法确认：法院于 %(day)s 裁定%(result)s%(late)s") % {
            "day": _fmt(ruled_on),
            "result": _("调解协议有效") if confirmed else _("驳回申请"),
            "late": _late_suffix(ruled_on, locked.rule_by),
        }
        if locked.note:
            text += _("。说明：%(note)s") % {"note": locked.note}
        _court_decided(locked, actor, text)
    return locked


# ---------------------------------------------------------------------------------------------
# The system: lapse and court referral results


def lapse_due(today: date | None = None) -> int:
    """Mark every confirmation still waiting past its window as 逾期未申请; return how many.

    Idempotent and safe to run twice at once: each row is claimed with a conditional UPDATE.
    """
    today = today or local_today()
    due = JudicialConfirmation.objects.filter(status=S.DUE, apply_by__lt=today).values_list("pk", flat=True)
    count = 0
    now = timezone.now()
    while batch := list(due.order_by("apply_by", "pk")[:BATCH]):
        count += sum(_lapse(pk, today, now) for pk in batch)
    return count


def _lapse(pk: int, today: date, now: datetime) -> int:
    with transaction.atomic():
        if not JudicialConfirmation.objects.filter(pk=pk, status=S.DUE, apply_by__lt=today).update(
            status=S.LAPSED, updated_at=now
        ):
            return 0
        confirmation = JudicialConfirmation.objects.select_related("agreement").get(pk=pk)
        case = Case.objects.select_related("unit").get(pk=confirmation.agreement.dispute_id)
        note = _("司法确认：当事人未在 %(apply_by)s 前共同申请，申请期限已过") % {
            "apply_by": _fmt(confirmation.apply_by)
        }
        _system_note(
            case, note, now, {"confirmation": S.LAPSED.value, "apply_by": _fmt(confirmation.apply_by)}
        )
    return 1


def on_dispute_closed(case: Case, step: Step) -> None:
    """Hook on 结案: a court-referred dispute's result goes back to the court, once (诉调对接)."""
    dispute = Dispute.objects.select_related("court").filter(pk=case.pk).first()
    if dispute is None or not dispute.referral or dispute.court is None:
        return
    if not Dispute.objects.filter(pk=case.pk, result_sent_at__isnull=True).update(result_sent_at=step.at):
        return  # already sent
    dispute.result_sent_at = step.at
    text = _result_text(case, dispute, step.at)
    notify(text, units=[dispute.court], link=f"/cases/{case.pk}/", source=case)
    _system_note(case, text, step.at, {"court_result": dispute.outcome, "court_id": dispute.court_id})


def _result_text(case: Case, dispute: Dispute, at: datetime) -> str:
    outcome = Outcome(dispute.outcome).label if dispute.outcome else _("已结案")
    text = _("诉调对接结果回复%(court)s：%(referral)s案件 %(court_number)s（%(number)s）%(outcome)s") % {
        "court": dispute.court.name if dispute.court else "",
        "referral": Referral(dispute.referral).label,
        "court_number": dispute.court_case_number or "",
        "number": case.number,
        "outcome": outcome,
    }
    agreement = Agreement.objects.filter(dispute_id=dispute.pk).values_list("number", flat=True).first()
    if agreement:
        text += _("，调解协议 %(number)s") % {"number": agreement}
    if dispute.referral_due:
        done_on = timezone.localdate(at)
        text += (
            _("（期限 %(due)s，按期办结）")
            if done_on <= dispute.referral_due
            else _("（期限 %(due)s，逾期办结）")
        ) % {"due": _fmt(dispute.referral_due)}
    return text
