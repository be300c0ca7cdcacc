"""`make bench`: every benchmark, each in its own process, one JSON line of figures each.

    python -m bench                      all, default sizes
    python -m bench.matcher_bench NAME N one matcher benchmark (overhead, rerun, scoring, memory)
"""

from __future__ import annotations

import json

from bench.matcher_bench import run_isolated

MATCHER = [("scoring", None), ("overhead", None), ("rerun", None), ("memory", None)]

if __name__ == "__main__":
    for name, size in MATCHER:
        print(json.dumps(run_isolated(name, size)), flush=True)
