"""A small event catalogue, points inside and outside the test grids, and a reporting helper."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pingan.cases.choices import Channel
from pingan.events.catalogue import import_catalogue
from pingan.events.models import Category
from pingan.events.services import intake

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Inside 柯城区's grid (118.80–118.90 E, 28.90–29.00 N) and 江山市's; inside the city, in no grid.
KC_POINT = (28.95, 118.85)
JS_POINT = (28.65, 118.55)
OUTSIDE_POINT = (28.30, 118.20)
METRES_PER_DEGREE_LAT = 111_195.0

CATALOGUE_CSV = """大类,小类,代码,平台,默认单位,立案条件,期限,期限单位,结案条件
市容环境,,01,监管执法,,,,,
市容环境,暴露垃圾,0101,,,公共区域有可见垃圾,1,工作日,垃圾清运完毕
市容环境,占道经营,0106,,,在道路摆摊设点,2,工作时,摊点撤离
违法建设,,04,监管执法,,,,,
违法建设,违法建设,0401,,,未取得规划许可建设,15,工作日,违建拆除
安全生产,,06,应急管理,,,,,
安全生产,燃气泄漏,0603,,,闻到燃气异味,2,紧急小时,检测无泄漏
"""


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def north(point: tuple[float, float], metres: float) -> tuple[float, float]:
    """A point ``metres`` north of ``point``."""
    return point[0] + metres / METRES_PER_DEGREE_LAT, point[1]


@pytest.fixture
def catalogue(db, tmp_path) -> dict[str, Category]:
    path = tmp_path / "catalogue.csv"
    path.write_text(CATALOGUE_CSV, encoding="utf-8")
    import_catalogue(path)
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def report(catalogue, personas):
    """File an event as the 柯城 hotline seat unless told otherwise; returns the case."""

    def make(**kwargs):
        values = {
            "actor": personas.kecheng_dispatcher,
            "channel": Channel.HOTLINE,
            "category": "0101",
            "title": "小区门口暴露垃圾无人清理",
            "lat": KC_POINT[0],
            "lon": KC_POINT[1],
            "at": local(2026, 11, 23, 9, 0),
        }
        values.update(kwargs)
        case, _created = intake(**values)
        return case

    return make
