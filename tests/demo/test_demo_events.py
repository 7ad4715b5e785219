"""The demo's event history (pingan.demo.events): a realistic mix, consistent steps, exact numbers.

One load of 3,000 events (the real demo writes 200,000 the same way) up to a fixed "now",
checked against the rules the services and the sweep apply.
"""

from __future__ import annotations

import io
import itertools
import json
import random
import re
from collections import Counter, defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import shapely
from django.db.models import F, Q

from pingan.accounts.models import Unit, User
from pingan.cases import deadlines, kinds, rollups
from pingan.cases import services as cases
from pingan.cases.choices import CLOCK_STATUSES, Action, Channel, Status, Supervision
from pingan.cases.models import ROLLUP_COUNTERS, ROLLUP_KEY, Case, CaseRollup, CaseSequence, Step
from pingan.cases.sweep import STAGES, _raise, sweep
from pingan.demo import events as demo_events
from pingan.demo.loader import load_demo
from pingan.events import routing
from pingan.events.models import Category, DispatchChoice, Event, RoutingRule
from pingan.geo.choices import Level
from pingan.geo.models import Jurisdiction

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=SHANGHAI)
COUNT = 3000
NUMBER = re.compile(r"^(\d{6})-(\d{8})-(\d{5})$")
COUNTIES = {"330802", "330803", "330822", "330824", "330825", "330881"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from pingan.core.calendar import seed_default

        seed_default()  # an earlier module may have flushed the seeded calendar
        load_demo(stdout=io.StringIO(), people=300, events=0)
        out = io.StringIO()
        demo_events.load_events(COUNT, now=NOW, stdout=out)
        yield out.getvalue()
        from django.core.management import call_command

        call_command("flush", "--no-input", verbosity=0)


@pytest.fixture
def loaded(demo, db):
    """The demo, inside a test transaction (anything a test writes is rolled back)."""
    return demo


def steps_by_case() -> dict[int, list[Step]]:
    found: dict[int, list[Step]] = defaultdict(list)
    for step in Step.objects.order_by("case_id", "id"):
        found[step.case_id].append(step)
    return found


def test_every_county_and_channel_comes_in_with_the_promised_shares(loaded):
    assert Case.objects.filter(kind="event").count() == COUNT
    assert Event.objects.count() == COUNT
    counties = Counter(code[:6] for code in Case.objects.values_list("area_code", flat=True))
    assert set(counties) == COUNTIES
    # Population-weighted: 柯城区 (≈53 万) sees about twice as many as 开化县 (≈26 万).
    assert 1.6 < counties["330802"] / counties["330824"] < 2.5
    channels = Counter(Case.objects.values_list("channel", flat=True))
    assert set(channels) == {
        Channel.GRID,
        Channel.HOTLINE,
        Channel.CITIZEN,
        Channel.POLICE_110,
        Channel.INSPECTION,
    }
    for channel, share in zip(demo_events.CHANNELS, demo_events.CHANNEL_SHARE, strict=True):
        assert abs(channels[channel] / COUNT - share) < 0.03, channel
    on_spot = Event.objects.filter(on_spot=True).count()
    assert 0.28 < on_spot / channels[Channel.GRID] < 0.40
    assert not Event.objects.filter(on_spot=True).exclude(case__channel=Channel.GRID).exists()


def test_history_spans_three_years_up_to_now_with_open_cases_at_the_end(loaded):
    first = Case.objects.order_by("registered_at").first()
    last = Case.objects.order_by("registered_at").last()
    assert first.registered_at.astimezone(SHANGHAI).date().isoformat() >= "2023-12-01"
    assert first.registered_at.astimezone(SHANGHAI).date().isoformat() < "2023-12-15"
    assert last.registered_at <= NOW
    assert not Step.objects.filter(at__gt=NOW).exists()
    still_open = Case.objects.exclude(status__in=(Status.CLOSED, Status.CANCELLED, Status.PARKED))
    assert still_open.exists()
    # Open matters are recent, except the stalled ones (taken in hand, never reported).
    assert (
        still_open.filter(registered_at__gte=datetime(2026, 7, 1, tzinfo=SHANGHAI)).count()
        == still_open.count()
    )


def test_outcomes_follow_the_quotas(loaded):
    pool = Case.objects.exclude(event__on_spot=True).count()

    def quota(name: str) -> int:
        return max(demo_events.QUOTA_MINIMUM, round(demo_events.QUOTAS[name] * pool))

    def between(count: int, name: str) -> bool:
        # The quota is exact; a case registered just before now may not have got there yet.
        return quota(name) - 3 <= count <= quota(name)

    assert between(Case.objects.filter(status=Status.CANCELLED).count(), "cancel")
    assert between(Case.objects.filter(status=Status.PARKED).count(), "park")
    assert between(Case.objects.filter(return_count=1).count(), "return")
    assert between(Case.objects.filter(rework_count=1).count(), "rework")
    # Half of the parked matters were extended first.
    extended = Case.objects.filter(extension_count=1).count()
    assert quota("extend") - 3 <= extended <= quota("extend") + quota("park")
    assert not Case.objects.filter(
        Q(return_count__gt=1) | Q(rework_count__gt=1) | Q(extension_count__gt=1)
    ).exists()
    overdue = Case.objects.filter(status__in=CLOCK_STATUSES, deadline_at__lt=NOW)
    assert overdue.count() >= quota("stall")
    dispatched = Case.objects.filter(status=Status.CLOSED, deadline_at__isnull=False)
    late = dispatched.filter(handled_at__gt=F("deadline_at")).count()
    assert 0.06 < late / dispatched.count() < 0.14


def test_every_closed_case_went_round_the_loop_in_time_order(loaded):
    history = steps_by_case()
    for case in Case.objects.all():
        steps = history[case.pk]
        assert [s.at for s in steps] == sorted(s.at for s in steps), case.number
        actions = [s.action for s in steps]
        assert steps[-1].to_status == case.status, case.number
        assert case.version == len(steps) - 1, case.number
        for before, after in itertools.pairwise(steps):
            assert after.from_status == before.to_status, case.number
        if case.status != Status.CLOSED:
            continue
        if actions[0] == Action.SOLVE_ON_SPOT:
            assert case.closed_at == case.handled_at == case.registered_at
            assert set(actions[1:]) <= {Action.EVALUATE}
            continue
        loop = [
            a
            for a in actions
            if a in (Action.REGISTER, Action.DISPATCH, Action.ACCEPT, Action.REPORT, Action.CLOSE)
        ]
        assert loop[0] == Action.REGISTER and loop[-2:] == [Action.REPORT, Action.CLOSE], case.number
        assert Action.DISPATCH in loop and Action.ACCEPT in loop
        assert case.closed_at == next(s.at for s in steps if s.action == Action.CLOSE)
        assert case.handled_at == [s.at for s in steps if s.action == Action.REPORT][-1]
        close = next(s for s in steps if s.action == Action.CLOSE)
        assert close.data["on_time"] == (case.handled_at <= case.deadline_at)


def test_required_notes_are_written(loaded):
    needs_note = [t.action for t in kinds.COMMON_LOOP.values() if t.note_required]
    assert not Step.objects.filter(action__in=needs_note, note="").exists()
    assert Step.objects.filter(action=Action.RETURN).exclude(note="").exists()


def test_deadlines_are_the_calendars(loaded):
    for case in Case.objects.filter(dispatched_at__isnull=False, extension_count=0).exclude(
        status=Status.RETURNED
    ):
        clock = deadlines.clock(case.dispatched_at, case.deadline_unit, case.deadline_amount)
        assert (case.deadline_at, case.warn_at, case.red_at) == (clock.deadline, clock.warn_at, clock.red_at)
    for case in Case.objects.filter(extension_count=1, status=Status.CLOSED)[:20]:
        approve = case.steps.get(action=Action.APPROVE_EXTENSION)
        assert datetime.fromisoformat(approve.data["deadline"]) == case.deadline_at > case.dispatched_at


def test_supervision_matches_the_cards_and_a_sweep_now_raises_nothing(loaded):
    levels = {str(action): level for action, level, _moment in STAGES}
    history = steps_by_case()
    for case in Case.objects.exclude(event__on_spot=True):
        steps = history[case.pk]
        since = max(
            (i for i, s in enumerate(steps) if s.action in (Action.DISPATCH, Action.RETURN)), default=0
        )
        cards = [levels[s.action] for s in steps[since:] if s.action in levels]
        if case.status in (Status.REGISTERED, Status.CANCELLED, Status.RETURNED):
            assert case.supervision == Supervision.NONE, case.number
        else:
            assert case.supervision == max(cards, default=Supervision.NONE), case.number
        if case.status in CLOCK_STATUSES and case.deadline_at < NOW:
            assert case.supervision >= Supervision.YELLOW, case.number
    assert Step.objects.filter(action=Action.RED_CARD).exists()
    assert sweep(NOW) == {"warn": 0, "yellow_card": 0, "red_card": 0}


def test_satisfaction_only_on_closed_cases_mostly_four_or_five(loaded):
    closed = Case.objects.filter(status=Status.CLOSED)
    scored = closed.filter(satisfaction__isnull=False)
    assert not Case.objects.exclude(status=Status.CLOSED).filter(satisfaction__isnull=False).exists()
    assert 0.55 < scored.count() / closed.count() < 0.65
    assert scored.filter(satisfaction__gte=4).count() / scored.count() > 0.8
    for case in scored[:50]:
        evaluation = case.steps.get(action=Action.EVALUATE)
        assert evaluation.data["satisfaction"] == case.satisfaction
        assert evaluation.data["by"] in ("requester", "callback")


def test_numbers_are_unique_well_formed_and_sequences_continue_after_them(loaded):
    numbers = list(Case.objects.values_list("number", "area_code", "registered_at"))
    assert len({n for n, _a, _r in numbers}) == COUNT
    per_prefix: dict[str, list[int]] = defaultdict(list)
    for number, area, registered in numbers:
        match = NUMBER.match(number)
        assert match, number
        assert match[1] == area[:6]
        assert match[2] == registered.astimezone(SHANGHAI).strftime("%Y%m%d")
        per_prefix[f"{match[1]}-{match[2]}"].append(int(match[3]))
    for prefix, sequence in per_prefix.items():
        assert sorted(sequence) == list(range(1, len(sequence) + 1)), prefix
        assert CaseSequence.objects.get(prefix=prefix).last == len(sequence)
    number, area, registered = numbers[0]
    prefix = number.rsplit("-", 1)[0]
    assert cases.next_number(area, registered) == f"{prefix}-{len(per_prefix[prefix]) + 1:05d}"


def test_places_are_inside_their_grids_with_place_names(loaded):
    grids = {j.pk: j for j in Jurisdiction.objects.filter(level=Level.GRID)}
    for case in Case.objects.all()[:400]:
        grid = grids[case.jurisdiction_id]
        assert case.area_code == grid.code
        shape = shapely.from_geojson(json.dumps(grid.geometry))
        assert shape.contains(shapely.Point(case.lon, case.lat)), case.number
        village = Jurisdiction.objects.get(code=grid.code[:12]).name
        assert case.title.startswith(village) and village in case.address


def test_requesters_are_demo_people_on_hotline_and_web_cases_only(loaded):
    linked = Case.objects.filter(requester__isnull=False)
    assert linked.exists()
    assert set(linked.values_list("channel", flat=True)) <= {Channel.HOTLINE, Channel.CITIZEN}
    for case in linked.select_related("requester")[:50]:
        assert case.requester.area_code[:6] == case.area_code[:6]


def test_seasons_show_in_the_categories(loaded):
    def share_in(codes: set[str], months: set[int]) -> float:
        dates = [
            at.astimezone(SHANGHAI).month
            for at in Case.objects.filter(event__category__code__in=codes).values_list(
                "registered_at", flat=True
            )
        ]
        return sum(m in months for m in dates) / len(dates)

    # 梅雨: drains, geological hazards and river litter in June–July (2 of 12 months).
    assert share_in({"0207", "0607", "0504"}, {6, 7}) > 0.3
    # Winter: fire lanes, gas and e-bike charging in December–February.
    assert share_in({"0602", "0603", "0604"}, {12, 1, 2}) > 0.3


def test_rollups_equal_a_rebuild_from_the_step_log(loaded):
    def snapshot() -> dict[tuple, tuple]:
        return {
            tuple(row[k] for k in ROLLUP_KEY): tuple(row[c] for c in ROLLUP_COUNTERS)
            for row in CaseRollup.objects.values(*ROLLUP_KEY, *ROLLUP_COUNTERS)
        }

    loaded_rows = snapshot()
    assert len(loaded_rows) > COUNT
    rollups.rebuild()
    assert snapshot() == loaded_rows
    totals = {c: sum(v[i] for v in loaded_rows.values()) for i, c in enumerate(ROLLUP_COUNTERS)}
    assert totals["registered"] == 3 * COUNT  # three grains
    assert totals["reworks"] == 3 * Step.objects.filter(action=Action.REWORK).count()


def test_dispatch_choices_equal_a_rebuild(loaded):
    columns = ("category_id", "area", "unit_id", "month", "count", "last_at")
    loaded_rows = sorted(DispatchChoice.objects.values_list(*columns))
    assert loaded_rows
    routing.rebuild_choices()
    assert sorted(DispatchChoice.objects.values_list(*columns)) == loaded_rows


def test_units_come_from_the_routing_rules_and_category_defaults(loaded):
    ctx = demo_events.Context(NOW, random.Random(1))
    townships = list(Jurisdiction.objects.filter(level=Level.TOWNSHIP).values_list("code", flat=True))
    assert RoutingRule.objects.exists()
    for cat in ctx.cats:
        for township in townships[::7]:
            rule = routing.matching_rule(cat.category, township)
            expected = rule.unit if rule else routing.default_unit(cat.category, township)[0]
            assert ctx.route(cat, township)[0] == (expected.pk if expected else None), (
                cat.category.code,
                township,
            )
    # Every first dispatch went to the suggested unit; returned ones then to another platform.
    for step in Step.objects.filter(action=Action.DISPATCH).select_related("case")[:300]:
        assert step.data["suggested_unit_id"]
    kinds_used = set(Unit.objects.filter(cases__isnull=False).values_list("kind", flat=True))
    assert {"platform", "department", "police_station"} <= kinds_used


def test_the_same_seed_gives_the_same_history(loaded):
    def heads(seed: int) -> list[tuple]:
        ctx = demo_events.Context(NOW, random.Random(seed))
        start = demo_events._history_start(NOW)
        return [
            (h.registered_at, h.channel, h.cat.category.code, h.grid.code, h.on_spot, h.fate, h.lat, h.lon)
            for h in demo_events.build_heads(ctx, 300, start, NOW)
        ]

    assert heads(7) == heads(7)
    assert heads(7) != heads(8)


def test_histories_replayed_through_the_services_give_the_same_cases(loaded):
    """The loader writes steps without the services: replaying a sample through them (with the
    sweep's own card-raising) must give the same case fields and the same steps."""
    admin = User.objects.get(username="admin")
    levels = {str(action): level for action, level, _moment in STAGES}
    picks = [
        (Q(return_count__gt=0), 8),
        (Q(rework_count__gt=0), 8),
        (Q(extension_count__gt=0), 8),
        (Q(status=Status.PARKED), 4),
        (Q(status__in=CLOCK_STATUSES, supervision=Supervision.RED), 4),
        (Q(status=Status.CANCELLED), 3),
        (Q(event__on_spot=True, satisfaction__isnull=False), 3),
        (Q(status=Status.CLOSED, supervision__gte=Supervision.YELLOW), 6),
        (Q(status=Status.CLOSED, supervision=Supervision.NONE, satisfaction__isnull=False), 4),
        (Q(extension_pending=True), 2),
    ]
    sample = {c.pk: c for q, n in picks for c in Case.objects.filter(q).order_by("id")[:n]}.values()
    assert len(sample) >= 35
    fields = (
        "status", "unit_id", "dispatched_at", "deadline_at", "warn_at", "red_at", "handled_at", "closed_at",
        "supervision", "extension_count", "extension_pending", "rework_count", "return_count",
        "satisfaction", "version", "tier",
    )  # fmt: skip
    for original in sample:
        steps = list(original.steps.order_by("id"))
        event = original.event
        replay = cases.register(
            "event",
            actor=admin,
            title=original.title,
            jurisdiction=original.jurisdiction,
            channel=original.channel,
            policy=kinds.DeadlinePolicy(original.deadline_unit, original.deadline_amount),
            tier=original.tier,
            at=original.registered_at,
            solved_on_spot=event.on_spot,
            data={"category_id": event.category_id},
        )
        for step in steps[1:]:
            if step.action in levels:
                _raise(replay.pk, Action(step.action), levels[step.action], step.at)
                replay.refresh_from_db()
                continue
            params = {}
            if step.action == Action.DISPATCH:
                params = {"unit": Unit.objects.get(pk=step.unit_id)}
            elif step.action == Action.REQUEST_EXTENSION:
                params = {"amount": step.data["amount"]}
            elif step.action == Action.EVALUATE:
                params = {"satisfaction": step.data["satisfaction"], "by": step.data["by"]}
            cases.transition(replay, step.action, actor=admin, at=step.at, note=step.note, **params)
        replay.refresh_from_db()
        assert {f: getattr(replay, f) for f in fields} == {f: getattr(original, f) for f in fields}, (
            original.number
        )
        replayed = list(replay.steps.order_by("id"))
        assert [(s.action, s.from_status, s.to_status, s.at, s.unit_id) for s in replayed] == [
            (s.action, s.from_status, s.to_status, s.at, s.unit_id) for s in steps
        ], original.number
        assert [s.data.get("on_time") for s in replayed] == [s.data.get("on_time") for s in steps]


def test_loading_prints_what_it_wrote(loaded):
    assert f"事件: {COUNT} 件" in loaded
    assert Category.objects.exists()
