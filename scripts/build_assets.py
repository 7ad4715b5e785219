#!/usr/bin/env python3
"""Copy the pinned front-end libraries from node_modules/ into pingan/static/vendor/.

Run after `npm ci`. Plain Python, no Django: government intranets are offline, so every
script and stylesheet a page needs is served by the installation itself (ARCHITECTURE.md).
The target directory is generated (gitignored) and rebuilt from scratch on every run.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "pingan" / "static" / "vendor"

# package → list of (source inside the package, destination inside vendor/<package dir>)
FILES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "leaflet": (
        "leaflet",
        [
            ("dist/leaflet.js", "leaflet.js"),
            ("dist/leaflet.js.map", "leaflet.js.map"),
            ("dist/leaflet.css", "leaflet.css"),
            ("dist/images", "images"),
            ("LICENSE", "LICENSE"),
        ],
    ),
    "echarts": (
        "echarts",
        [
            ("dist/echarts.min.js", "echarts.min.js"),
            ("LICENSE", "LICENSE"),
            ("NOTICE", "NOTICE"),
        ],
    ),
    "htmx.org": (
        "htmx",
        [
            ("dist/htmx.min.js", "htmx.min.js"),
            ("LICENSE", "LICENSE"),
        ],
    ),
}


def main() -> int:
    if not NODE_MODULES.is_dir():
        print("node_modules/ is missing: run `npm ci --no-audit --no-fund` first", file=sys.stderr)
        return 1
    pinned = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["dependencies"]
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    VENDOR.mkdir(parents=True)
    versions = {}
    for package, (target_dir, files) in FILES.items():
        package_dir = NODE_MODULES / package
        installed = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))["version"]
        if installed != pinned[package]:
            print(
                f"{package}: installed {installed}, package.json pins {pinned[package]}; run npm ci",
                file=sys.stderr,
            )
            return 1
        versions[package] = installed
        for source, destination in files:
            src = package_dir / source
            dst = VENDOR / target_dir / destination
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst)
            else:
                shutil.copy2(src, dst)
    (VENDOR / "versions.json").write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")
    print("vendor assets:", ", ".join(f"{k} {v}" for k, v in versions.items()), "→", VENDOR.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
