import pytest
from pingan.cases.models import CaseRollup, ROLLUP_COUNTERS
from pingan.cases import rollups
from tests.cases.indicator_history import build

def snap():
    out = {}
    for r in CaseRollup.objects.all():
        vals = tuple(getattr(r, c) for c in ROLLUP_COUNTERS)
        if any(vals):
            out[(r.grain, str(r.day), r.unit_id, r.area_code, r.kind, r.category_id)] = dict(zip(ROLLUP_COUNTERS, vals))
    return out

def test_it(tree, units, personas):
    h = build(tree, units, personas)
    inc = snap()
    for k, v in sorted(inc.items()):
        if k[0] == 'month': print(k, {a:b for a,b in v.items() if b})
    n = rollups.rebuild()
    reb = snap()
    for k in set(inc) | set(reb):
        if inc.get(k) != reb.get(k):
            print("DIFF", k, inc.get(k), reb.get(k))
    assert inc == reb
