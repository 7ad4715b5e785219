"""`pingan demo` as a user runs it: loads once, reuses, and `--reset` starts over."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PINGAN = str(Path(sys.executable).with_name("pingan"))


def run_demo(var_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PINGAN_DATABASE_URL"}
    env["PINGAN_VAR_DIR"] = str(var_dir)
    # 2,000 events instead of the default 200,000 keep the test quick (docs/performance.md).
    return subprocess.run(
        [PINGAN, "demo", "--no-serve", "--events", "2000", "--disputes", "1000", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_demo_loads_once_then_reuses_then_resets(tmp_path):
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "人员: 5000" in first.stdout and "kc_dispatcher" in first.stdout
    assert "事件: 2000 件" in first.stdout
    again = run_demo(tmp_path)
    assert again.returncode == 0 and "已存在" in again.stdout
    reset = run_demo(tmp_path, "--reset")
    assert reset.returncode == 0, reset.stderr[-2000:]
    assert "人员: 5000" in reset.stdout and "事件: 2000 件" in reset.stdout


@pytest.mark.slow
def test_demo_refuses_a_negative_event_count(tmp_path):
    refused = run_demo(tmp_path, "--events", "-5")
    assert refused.returncode == 2
    assert "--events" in refused.stderr and "≥ 0" in refused.stderr
