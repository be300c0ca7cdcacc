"""Run a spider through the real Scrapy engine, in its own process, against recorded responses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from crawlers.replay import ReplayServer, discover_recordings


def run_spider(source: str, recordings: list[Path], database_url: str, *, args: dict[str, str] | None = None,
               env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    recs = discover_recordings(*recordings)
    spider_args = {**{k: v for r in recs if r.source == source for k, v in r.spider_args.items()}, **(args or {})}
    with ReplayServer(recs) as server:
        child_env = {**os.environ, "CONVOCA_DATABASE_URL": database_url, "CONVOCA_REPLAY_URL": server.url,
                     "CONVOCA_DOWNLOAD_DELAY": "0", "CONVOCA_RETRY_BACKOFF": "0.05", **(env or {})}
        return subprocess.run([sys.executable, "-m", "crawlers.run", source, *[f"{k}={v}" for k, v in spider_args.items()]],
                              env=child_env, capture_output=True, text=True, timeout=timeout)


def write_manifest(folder: Path, source: str, entries: list[dict], spider_args: dict[str, str] | None = None) -> Path:
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.yaml").write_text(yaml.safe_dump({
        "source": source, "provenance": "test fixture", "spider_args": spider_args or {}, "responses": entries,
    }, allow_unicode=True), encoding="utf-8")
    return folder
