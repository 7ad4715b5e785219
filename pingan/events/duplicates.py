"""Near-duplicate events (疑似重复): the same matter reported twice, proposed for a merge.

Two events are near-duplicates when all of these hold (every threshold is a setting):

- same 小类, both open, neither merged, in the same county (6-digit prefix);
- registered within ``DUPLICATE_HOURS`` hours of each other (default 72);
- within ``DUPLICATE_METRES`` metres (default 200, great-circle distance); when the case has
  no coordinates, a candidate must also have none and lie in the same jurisdiction;
- similar text: the Jaccard similarity of jieba word sets (stop words and punctuation
  removed), taken on the titles and on title + description, the larger of the two, is at
  least ``DUPLICATE_SIMILARITY`` (default 0.5).

Candidates are few (same category, county and time window), so the exact Jaccard is cheap;
no MinHash index is needed at this size.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import timedelta
from functools import lru_cache

from django.conf import settings

from pingan.cases.choices import OPEN_STATUSES
from pingan.cases.models import Case

EARTH_RADIUS_M = 6_371_008.8
COUNTY_DIGITS = 6
# Words that carry no meaning for matching reports (the platform's own phrasing included).
STOP_WORDS = frozenset(
    "的了在是有和与及或也都就还又很被把给对从向到于为以之其这那此该我你他她它"
) | frozenset(
    re.findall(
        r"\S+",
        "我们 他们 有人 没有 一个 一些 一直 现在 目前 已经 问题 情况 反映 反应 群众 市民 希望 请求 要求 "
        "尽快 处理 解决 相关 部门 附近 位置 地方 群众反映 市民反映 有人反映 来电反映",
    )
)
_WORD = re.compile(r"\w", re.UNICODE)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def tokens(text: str) -> frozenset[str]:
    """Meaningful words of a Chinese (or mixed) text."""
    words = _jieba().lcut((text or "").lower())
    return frozenset(w for w in (w.strip() for w in words) if w and _WORD.search(w) and w not in STOP_WORDS)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def similarity(first: Case, second: Case) -> float:
    """Text similarity of two cases: the larger of title and full-text Jaccard."""
    titles = jaccard(tokens(first.title), tokens(second.title))
    full = jaccard(
        tokens(f"{first.title} {first.description}"), tokens(f"{second.title} {second.description}")
    )
    return max(titles, full)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def find_duplicates(case: Case) -> list[tuple[Case, float]]:
    """Open events that look like the same matter as ``case``, best first, with their scores."""
    event = getattr(case, "event", None)
    if event is None or case.merged_into_id is not None or case.status not in OPEN_STATUSES:
        return []
    metres = float(settings.DUPLICATE_METRES)
    hours = float(settings.DUPLICATE_HOURS)
    threshold = float(settings.DUPLICATE_SIMILARITY)
    window = timedelta(hours=hours)
    candidates = (
        Case.objects.filter(
            kind=case.kind,
            event__category_id=event.category_id,
            status__in=OPEN_STATUSES,
            merged_into__isnull=True,
            area_code__under=case.area_code[:COUNTY_DIGITS],
            registered_at__gte=case.registered_at - window,
            registered_at__lte=case.registered_at + window,
        )
        .exclude(pk=case.pk)
        .select_related("event")
    )
    if case.lat is not None and case.lon is not None:
        # A bounding box in degrees narrows the query; the exact distance is checked below.
        dlat = metres / 111_000
        dlon = metres / (111_000 * max(math.cos(math.radians(case.lat)), 0.01))
        candidates = candidates.filter(
            lat__range=(case.lat - dlat, case.lat + dlat), lon__range=(case.lon - dlon, case.lon + dlon)
        )
    else:
        candidates = candidates.filter(lat__isnull=True, area_code=case.area_code)
    found: list[tuple[Case, float, float]] = []
    for other in candidates[:200]:
        distance = 0.0
        if case.lat is not None and case.lon is not None and other.lat is not None and other.lon is not None:
            distance = distance_m(case.lat, case.lon, other.lat, other.lon)
            if distance > metres:
                continue
        score = similarity(case, other)
        if score >= threshold:
            found.append((other, round(score, 3), distance))
    found.sort(key=lambda item: (-item[1], item[2], item[0].registered_at))
    return [(other, score) for other, score, _distance in found]
