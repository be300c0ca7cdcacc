"""`python -m bench`: run every benchmark module in this folder that has a main()."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    failures = 0
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        if hasattr(module, "main"):
            print(f"== bench.{info.name}", flush=True)
            failures += int(bool(module.main([])))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
