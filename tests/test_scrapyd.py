"""Crawls dispatched to a real local Scrapyd write to the shared store like a local crawl (DESIGN §8)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from convoca.errors import CrawlError
from convoca.settings import Settings
from crawlers.replay import RECORDINGS_DIR, ReplayServer, discover_recordings
from crawlers.scrapyd import ScrapydClient, crawl_on_scrapyd
from models import Opportunity, SourceRun
from models.db import session_factory


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def replay():
    with ReplayServer(discover_recordings(RECORDINGS_DIR / "eu_sedia")) as server:
        yield server


@pytest.fixture
def scrapyd(tmp_path: Path, db_url: str, replay: ReplayServer):
    port = _free_port()
    (tmp_path / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\nmax_proc = 2\npoll_interval = 0.2\nlogs_dir = logs\ndbs_dir = dbs\n"
        "eggs_dir = eggs\nitems_dir =\n\n[settings]\nconvoca = crawlers.project_settings\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVOCA_")}
    env.update({"CONVOCA_DATABASE_URL": db_url, "CONVOCA_REPLAY_URL": replay.url, "CONVOCA_DOWNLOAD_DELAY": "0",
                "SCRAPY_SETTINGS_MODULE": "crawlers.project_settings"})
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    client = ScrapydClient(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            client.daemon_status()
            break
        except CrawlError:
            assert time.monotonic() < deadline, "Scrapyd did not start"
            time.sleep(0.2)
    yield client
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_scrapyd_lists_the_projects_spiders(scrapyd: ScrapydClient):
    assert {"eu_sedia", "grants_gov", "minciencias", "page_watch"} <= set(scrapyd.spiders())


def test_crawl_dispatched_to_scrapyd_lands_in_the_database(scrapyd: ScrapydClient, db_url: str, tmp_path: Path):
    settings = Settings(database_url=db_url, _env_file=None)  # type: ignore[call-arg]
    done = []
    results = crawl_on_scrapyd(settings, session_factory(db_url), [scrapyd.url], ["eu_sedia"],
                               spider_args={"eu_sedia": {"page_size": "10"}}, poll=0.3, timeout=300,
                               on_done=done.append)
    assert [r.exit_code for r in results] == [0], results[0].stderr_tail
    assert done == results and results[0].run["new"] == 20 and results[0].run["healthy"]
    with session_factory(db_url)() as s:
        assert s.scalar(select(func.count()).select_from(Opportunity)) == 20
        assert s.scalars(select(SourceRun.status)).all() == ["ok"]


def test_unreachable_scrapyd_fails_before_scheduling(db_url: str):
    settings = Settings(database_url=db_url, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(CrawlError, match="did not answer"):
        crawl_on_scrapyd(settings, session_factory(db_url), [f"http://127.0.0.1:{_free_port()}"], ["eu_sedia"])
