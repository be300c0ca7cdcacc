"""One scheduler leader per database: a second process waits on standby and takes over."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from models.migrate import upgrade
from notifier.leader import LeaderLock
from tests.conftest import REPO
from tests.log_events import read_log_events


def test_only_one_lock_holder_per_database(db_url: str):
    first, second = LeaderLock(db_url), LeaderLock(db_url)
    try:
        assert first.try_acquire()
        assert first.alive()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


class Service:
    def __init__(self, env: dict[str, str], cwd: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "convoca", "scheduler"], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.records: list[dict[str, Any]] = []
        self.raw: list[str] = []
        threading.Thread(target=read_log_events, args=(self.proc.stderr, self.records, self.raw), daemon=True).start()

    @property
    def events(self) -> list[str]:
        return [r["event"] for r in list(self.records)]

    def wait_for(self, event: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while event not in self.events:
            assert self.proc.poll() is None, "".join(self.raw)
            assert time.monotonic() < deadline, f"no {event}: " + "".join(self.raw)
            time.sleep(0.05)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_standby_scheduler_takes_over_when_the_leader_stops(backend: str, tmp_path: Path, request: pytest.FixtureRequest):
    if backend == "sqlite":
        db_url = f"sqlite:///{tmp_path / 'convoca.db'}"
        upgrade(db_url)
    else:
        db_url = _pg(request)
    config = tmp_path / "config"
    (config / "municipalities").mkdir(parents=True)
    shutil.copy(REPO / "config" / "fx_rates.yaml", config / "fx_rates.yaml")
    shutil.copy(REPO / "config" / "municipalities" / "envigado.yaml", config / "municipalities" / "envigado.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVOCA_")}
    env.update({"CONVOCA_DATABASE_URL": db_url, "CONVOCA_CONFIG_DIR": str(config), "CONVOCA_LEADER_POLL_SECONDS": "0.5",
                "CONVOCA_OUTBOX_DIR": str(tmp_path / "outbox"), "PYTHONPATH": str(REPO)})
    leader = Service(env, tmp_path)
    standby = None
    try:
        leader.wait_for("scheduler_job")
        standby = Service(env, tmp_path)
        standby.wait_for("scheduler_standby")
        assert "scheduler_leader" not in standby.events
        assert leader.stop() == 0
        standby.wait_for("scheduler_job")
        assert standby.events.index("scheduler_standby") < standby.events.index("scheduler_leader")
    finally:
        leader.stop()
        if standby is not None:
            assert standby.stop() == 0, "".join(standby.raw)


def _pg(request: pytest.FixtureRequest) -> str:
    from tests.conftest import _fresh_pg

    template = request.getfixturevalue("pg_template")
    gen = _fresh_pg(template)
    url = next(gen)
    request.addfinalizer(lambda: next(gen, None))
    return url
