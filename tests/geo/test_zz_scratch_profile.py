from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.conftest import login

def test_profile(personas):
    from pingan.geo import locate
    locate.invalidate()
    for who in ("kecheng_dispatcher", "admin", "jiangshan_dispatcher"):
        client = login(getattr(personas, who))
        client.get("/api/geo/locate", {"lat": 28.95, "lon": 118.85})  # warm the index
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/api/geo/locate", {"lat": 28.95, "lon": 118.85})
        print("\n==", who, r.status_code, len(ctx.captured_queries))
        for q in ctx.captured_queries:
            print("  ", q["sql"][:200])
