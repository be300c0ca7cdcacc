"""The scheduler: job registration, the job store across restarts, missed runs, and the real service.

In-process tests use APScheduler's BackgroundScheduler with the same builder, job plan and
reconciliation as `convoca scheduler` (which runs the BlockingScheduler), and a job function that
records its runs. The end-to-end test runs the real `convoca scheduler` process on a SQLite
database with a weekly run it missed while it was down, and stops it with SIGTERM mid-job.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session

from convoca.settings import Settings
from models.db import session_factory
from models.migrate import upgrade
from notifier.formatting import BOGOTA
from notifier.scheduler import (
    CYCLE_GRACE,
    REMINDER_JOB_ID,
    build_scheduler,
    open_job_store,
    plan_jobs,
    slots_from_db,
    start_scheduler,
    stored_jobs,
    sync_jobs,
    weekly_trigger,
)
from tests import scheduler_jobs
from tests.log_events import read_log_events
from tests.notifier_helpers import municipality

REPO = Path(__file__).resolve().parent.parent
RECORD = "tests.scheduler_jobs:record"
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _stored(settings: Settings) -> dict[str, datetime | None]:
    """The job store's contents, read without running a scheduler."""
    return {job.id: job.next_run_time for job in stored_jobs(settings)}


def _missed_while_down(settings: Settings, job_id: str, next_run: datetime) -> None:
    """Put the store in the state a scheduler leaves when it is down past a job's run time."""
    with open_job_store(settings) as store:
        job = store.lookup_job(job_id)
        assert job is not None
        job._modify(next_run_time=next_run)
        store.update_job(job)


def test_jobs_register_with_their_triggers_in_bogota_time(session: Session, settings: Settings):
    municipality(session, "envigado", "Envigado", [("Planeación", "p@envigado.example.gov.co")], weekday="monday", hour=7)
    municipality(session, "barbosa", "Barbosa", [("Planeación", "p@barbosa.example.gov.co")], weekday="tuesday", hour=6)
    municipality(session, "bello", "Bello", [("Planeación", "p@bello.example.gov.co")], weekday="friday", hour=18)
    session.commit()
    plans = plan_jobs(slots_from_db(session), settings)

    scheduler = build_scheduler(settings, BackgroundScheduler)
    start_scheduler(scheduler, plans)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"cycle:barbosa", "cycle:bello", "cycle:envigado", REMINDER_JOB_ID}
        expected = {"cycle:envigado": (0, 7), "cycle:barbosa": (1, 6), "cycle:bello": (4, 18)}
        for job_id, (weekday, hour) in expected.items():
            job = jobs[job_id]
            assert str(job.trigger) == f"cron[day_of_week='{('mon', 'tue', 'wed', 'thu', 'fri')[weekday]}', hour='{hour}', minute='0']"
            assert str(job.trigger.timezone) == "America/Bogota"
            local = job.next_run_time.astimezone(BOGOTA)
            assert (local.weekday(), local.hour, local.minute) == (weekday, hour, 0)
            assert job.next_run_time > datetime.now(UTC)
            assert job.func_ref == "convoca.jobs:weekly_cycle" and job.args == (job_id.split(":")[1],)
            assert job.coalesce and job.max_instances == 1
            assert job.misfire_grace_time == int(CYCLE_GRACE.total_seconds())
        reminders = jobs[REMINDER_JOB_ID]
        assert reminders.func_ref == "convoca.jobs:daily_reminders"
        assert str(reminders.trigger) == f"cron[hour='{settings.reminder_hour}', minute='0']"
        assert reminders.next_run_time.astimezone(BOGOTA).hour == settings.reminder_hour

        # A changed hour reschedules; a municipality gone from the configuration loses its job.
        changed = plan_jobs([("envigado", "monday", 9), ("barbosa", "tuesday", 6)], settings)
        outcome = sync_jobs(scheduler, changed)
        assert outcome == {"cycle:bello": "removed", "cycle:envigado": "rescheduled", "cycle:barbosa": "kept",
                           REMINDER_JOB_ID: "kept"}
        assert scheduler.get_job("cycle:envigado").next_run_time.astimezone(BOGOTA).hour == 9
    finally:
        scheduler.shutdown(wait=False)


def _slot(hours_ago: float) -> tuple[str, int, datetime]:
    """A weekly slot whose latest fire time was about `hours_ago` hours ago, and that fire time."""
    then = datetime.now(BOGOTA) - timedelta(hours=hours_ago)
    fired = then.replace(minute=0, second=0, microsecond=0)
    return WEEKDAY_NAMES[fired.weekday()], fired.hour, fired


def test_job_store_survives_a_restart_and_a_missed_weekly_run_runs_once(settings: Settings):
    recent_day, recent_hour, recent_fire = _slot(26)  # missed yesterday: within the grace time
    stale_day, stale_hour, stale_fire = _slot(6 * 24 + 14)  # missed 6½ days ago: beyond it
    plans = plan_jobs([("recent", recent_day, recent_hour), ("stale", stale_day, stale_hour)], settings,
                      cycle_func=RECORD, reminder_func=RECORD)

    first = build_scheduler(settings, BackgroundScheduler)
    start_scheduler(first, plans)
    registered = {job.id: job.next_run_time for job in first.get_jobs()}
    first.shutdown()

    # The job store lives in the database: a new scheduler finds the same jobs and run times.
    assert _stored(settings) == registered

    # Downtime: the scheduler was off across two of `recent`'s weekly runs and `stale`'s last one.
    _missed_while_down(settings, "cycle:recent", recent_fire - timedelta(days=7))
    _missed_while_down(settings, "cycle:stale", stale_fire)

    scheduler_jobs.RUNS.clear()
    missed: list[str] = []
    restarted = build_scheduler(settings, BackgroundScheduler)
    restarted.add_listener(lambda e: missed.append(e.job_id) if isinstance(e, JobExecutionEvent) else None,
                           EVENT_JOB_MISSED)
    start_scheduler(restarted, plans)
    try:
        deadline = time.monotonic() + 30
        while not scheduler_jobs.RUNS and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # room for a second, wrong, run
        assert [slug for slug, _ in scheduler_jobs.RUNS] == ["recent"], "two missed runs, coalesced into one"
        assert missed == ["cycle:stale"]
        jobs = {job.id: job for job in restarted.get_jobs()}
        now = datetime.now(UTC)
        assert jobs["cycle:recent"].next_run_time == recent_fire + timedelta(days=7)
        assert jobs["cycle:stale"].next_run_time == stale_fire + timedelta(days=7) > now
        assert jobs["cycle:recent"].next_run_time == weekly_trigger(recent_day, recent_hour).get_next_fire_time(None, now)
    finally:
        restarted.shutdown(wait=True)


@pytest.mark.model
def test_scheduler_service_runs_a_missed_cycle_once_and_stops_cleanly_on_sigterm(tmp_path: Path):
    config = tmp_path / "config"
    (config / "municipalities").mkdir(parents=True)
    shutil.copy(REPO / "config" / "fx_rates.yaml", config / "fx_rates.yaml")
    for slug in ("envigado", "medellin"):
        shutil.copy(REPO / "config" / "municipalities" / f"{slug}.yaml", config / "municipalities" / f"{slug}.yaml")
    db_url = f"sqlite:///{tmp_path / 'convoca.db'}"
    upgrade(db_url)
    reminder_hour = (datetime.now(BOGOTA).hour + 12) % 24  # the daily job stays out of the way
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVOCA_")}
    env.update({"CONVOCA_DATABASE_URL": db_url, "CONVOCA_CONFIG_DIR": str(config),
                "CONVOCA_OUTBOX_DIR": str(tmp_path / "outbox"), "CONVOCA_REMINDER_HOUR": str(reminder_hour),
                "CONVOCA_DOWNLOAD_DELAY": "0", "PYTHONPATH": str(REPO)})
    settings = Settings(database_url=db_url, config_dir=config, reminder_hour=reminder_hour,
                        _env_file=None)  # type: ignore[call-arg]

    # A cycle by hand, as a person would run it: crawl (recorded sources) → match → Envigado's digests.
    cycle = subprocess.run([sys.executable, "-m", "convoca", "cycle", "envigado", "--replay"], cwd=tmp_path,
                           check=False, env=env, capture_output=True, text=True, timeout=600)
    assert cycle.returncode == 0, cycle.stdout + cycle.stderr
    assert "3 enviados" in cycle.stdout
    outbox = tmp_path / "outbox"
    assert {p.name.split(".")[1] for p in outbox.glob("*.eml")} == {"envigado"}

    # Register the jobs, then make Medellín's weekly run one the service missed while it was down.
    with session_factory(db_url)() as session:
        plans = plan_jobs(slots_from_db(session), settings)
    first = build_scheduler(settings, BackgroundScheduler)
    start_scheduler(first, plans)  # nothing is due yet
    first.shutdown(wait=True)
    _missed_while_down(settings, "cycle:medellin", datetime.now(UTC) - timedelta(hours=1))
    untouched = _stored(settings)["cycle:envigado"]

    proc = subprocess.Popen([sys.executable, "-m", "convoca", "scheduler"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events: list[dict[str, Any]] = []
    raw: list[str] = []
    reader = threading.Thread(target=read_log_events, args=(proc.stderr, events, raw), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 180
        while not any(e["event"] == "job_started" for e in events):
            assert proc.poll() is None, "".join(raw)
            assert time.monotonic() < deadline, "".join(raw)
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)  # while the cycle job runs
        assert proc.wait(timeout=300) == 0, "".join(raw)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)

    names = [e["event"] for e in events]
    started = [e for e in events if e["event"] == "job_started"]
    assert [e["job"] for e in started] == ["cycle:medellin"], "the missed run ran once, nothing else ran"
    order = [names.index(n) for n in ("job_started", "scheduler_stopping", "cycle_done", "job_done", "scheduler_stopped")]
    assert order == sorted(order), names
    assert "cycle_crawl_skipped" in names  # the crawl of an hour ago still serves
    assert {p.name.split(".")[1] for p in outbox.glob("*.eml")} == {"envigado", "medellin"}
    assert sum(1 for p in outbox.glob("digest.medellin.*.eml")) == 3

    stored = _stored(settings)
    assert stored["cycle:envigado"] == untouched
    medellin_next = stored["cycle:medellin"]
    assert medellin_next is not None and medellin_next > datetime.now(UTC)
    assert (medellin_next.astimezone(BOGOTA).weekday(), medellin_next.astimezone(BOGOTA).hour) == (0, 6)
