"""Widget weight: the bytes a host page pays for an embed (widget.js must stay under 8 KB gzipped).

Run with `make bench` (or .venv/bin/python bench/widget_size.py). Prints one line per figure.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, as the other benches

from feedserver.registry import all_kinds  # noqa: E402
from feedserver.web.widgets.assets import assemble  # noqa: E402

STATIC = Path(__file__).resolve().parent.parent / "feedserver" / "static"
BUDGET = 8 * 1024  # gzipped bytes of widget.js


def sizes(name: str) -> tuple[int, int]:
    """(raw, gzipped at level 9) bytes of widget.js as served (with every kind's part) or a static file."""
    body = assemble(all_kinds()).encode() if name == "widget.js" else (STATIC / name).read_bytes()
    return len(body), len(gzip.compress(body, 9))


def main() -> int:
    """Print the sizes; exit 1 when widget.js is over its budget."""
    for name in ("widget.js", "widget.css"):
        raw, packed = sizes(name)
        print(f"{name}: {raw} bytes, {packed} bytes gzipped")
    packed = sizes("widget.js")[1]
    print(f"widget.js budget: {packed} of {BUDGET} bytes gzipped ({packed / BUDGET:.0%})")
    return 0 if packed < BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
