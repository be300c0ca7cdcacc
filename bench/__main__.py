"""`python -m bench`: run every benchmark module of this package in turn."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main() -> int:
    failed = 0
    for module in sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")):
        print(f"== bench.{module}", flush=True)
        failed += int(bool(importlib.import_module(f"bench.{module}").main([])))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
