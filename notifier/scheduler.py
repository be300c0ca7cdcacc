"""Job registration for `convoca scheduler`: APScheduler 3 with its job store in our database.

Jobs: one weekly cycle per municipality at its configured weekday and hour (America/Bogota),
and one daily reminder job. Jobs are coalesced and may start late within a grace time, so a
scheduler that was down when a job was due runs it once when it comes back.

The stored jobs are reconciled with the configuration when the scheduler starts: a job whose
trigger is unchanged is left alone (keeping a missed run due), a changed one is rescheduled,
a municipality removed from the configuration loses its job.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from types import FrameType
from typing import Any

import structlog
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_STARTED,
    JobExecutionEvent,
    JobSubmissionEvent,
    SchedulerEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler, SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoca.settings import Settings
from models import Municipality
from models.db import get_engine
from models.schedule import SCHEDULER_JOBS_TABLE
from notifier.formatting import BOGOTA
from notifier.leader import LeaderLock

log = structlog.stdlib.get_logger("convoca.scheduler")

CYCLE_FUNC = "convoca.jobs:weekly_cycle"
REMINDER_FUNC = "convoca.jobs:daily_reminders"
CYCLE_PREFIX = "cycle:"
REMINDER_JOB_ID = "reminders:daily"
# A weekly job may start up to six days late (never so late that it meets its next run);
# the daily one up to twenty hours.
CYCLE_GRACE = timedelta(days=6)
REMINDER_GRACE = timedelta(hours=20)
WEEKDAYS = {"monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu", "friday": "fri",
            "saturday": "sat", "sunday": "sun"}


@dataclass(frozen=True)
class JobPlan:
    id: str
    func: str  # "module:function": the job store keeps the name, not the object
    trigger: CronTrigger
    args: tuple[Any, ...]
    name: str
    misfire_grace_time: int


def weekly_trigger(weekday: str, hour: int) -> CronTrigger:
    return CronTrigger(day_of_week=WEEKDAYS[weekday], hour=hour, minute=0, timezone=BOGOTA)


def plan_jobs(slots: Iterable[tuple[str, str, int]], settings: Settings, *, cycle_func: str = CYCLE_FUNC,
              reminder_func: str = REMINDER_FUNC) -> list[JobPlan]:
    """`slots`: (municipality slug, weekday, hour) for every municipality."""
    plans = [JobPlan(f"{CYCLE_PREFIX}{slug}", cycle_func, weekly_trigger(weekday, hour), (slug,),
                     f"Ciclo semanal de {slug}", int(CYCLE_GRACE.total_seconds()))
             for slug, weekday, hour in sorted(slots)]
    plans.append(JobPlan(REMINDER_JOB_ID, reminder_func,
                         CronTrigger(hour=settings.reminder_hour, minute=0, timezone=BOGOTA), (),
                         "Recordatorios diarios", int(REMINDER_GRACE.total_seconds())))
    return plans


def slots_from_db(session: Session) -> list[tuple[str, str, int]]:
    slots = []
    for m in session.scalars(select(Municipality).order_by(Municipality.slug)):
        digest = m.config.get("digest", {})
        slots.append((m.slug, str(digest.get("weekday", "monday")), int(digest.get("hour", 7))))
    return slots


def _job_store(settings: Settings) -> SQLAlchemyJobStore:
    return SQLAlchemyJobStore(engine=get_engine(settings.database_url), tablename=SCHEDULER_JOBS_TABLE)


@contextmanager
def open_job_store(settings: Settings) -> Iterator[SQLAlchemyJobStore]:
    """The job store opened without a running scheduler: reading it never runs or advances a job.

    (A scheduler started paused only to read would still have a main loop that, racing its own
    shutdown, can process due jobs and so consume a missed run.)
    """
    store = _job_store(settings)
    store.start(BackgroundScheduler(timezone=BOGOTA), "default")  # never started: it only rebuilds jobs
    try:
        yield store
    finally:
        store.shutdown()


def stored_jobs(settings: Settings) -> list[Job]:
    with open_job_store(settings) as store:
        return list(store.get_all_jobs())


def build_scheduler(settings: Settings, scheduler_cls: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """One job at a time (the cycle and the reminders both write the database), coalesced."""
    return scheduler_cls(
        jobstores={"default": _job_store(settings)},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=BOGOTA,
    )


def _same_trigger(a: Any, b: CronTrigger) -> bool:
    return isinstance(a, CronTrigger) and str(a) == str(b) and str(a.timezone) == str(b.timezone)


def sync_jobs(scheduler: BaseScheduler, plans: list[JobPlan]) -> dict[str, str]:
    """Make the stored jobs match the plan. Returns job id → added / rescheduled / updated / kept / removed."""
    outcome: dict[str, str] = {}
    wanted = {p.id: p for p in plans}
    for job in scheduler.get_jobs():
        if job.id not in wanted and (job.id.startswith(CYCLE_PREFIX) or job.id == REMINDER_JOB_ID):
            scheduler.remove_job(job.id)
            outcome[job.id] = "removed"
    for plan in plans:
        job = scheduler.get_job(plan.id)
        if job is None:
            scheduler.add_job(plan.func, plan.trigger, id=plan.id, name=plan.name, args=list(plan.args),
                              misfire_grace_time=plan.misfire_grace_time, coalesce=True, max_instances=1)
            outcome[plan.id] = "added"
            continue
        status = "kept"
        if not _same_trigger(job.trigger, plan.trigger):
            scheduler.reschedule_job(plan.id, trigger=plan.trigger)
            status = "rescheduled"
        if (job.func_ref != plan.func or tuple(job.args) != plan.args or job.name != plan.name
                or job.misfire_grace_time != plan.misfire_grace_time or not job.coalesce):
            scheduler.modify_job(plan.id, func=plan.func, args=list(plan.args), name=plan.name,
                                 misfire_grace_time=plan.misfire_grace_time, coalesce=True)
            status = "updated" if status == "kept" else status
        outcome[plan.id] = status
    for job_id, status in sorted(outcome.items()):
        log.info("scheduler_job_synced", job=job_id, outcome=status)
    return outcome


def _log_events(scheduler: BaseScheduler) -> None:
    def submitted(event: SchedulerEvent) -> None:
        assert isinstance(event, JobSubmissionEvent)
        log.info("job_started", job=event.job_id, scheduled_for=[t.isoformat() for t in event.scheduled_run_times])

    def finished(event: SchedulerEvent) -> None:
        assert isinstance(event, JobExecutionEvent)
        if event.code == EVENT_JOB_MISSED:
            log.warning("job_missed", job=event.job_id, scheduled_for=event.scheduled_run_time.isoformat())
        elif event.exception is not None:
            log.error("job_failed", job=event.job_id, error=str(event.exception))
        else:
            log.info("job_done", job=event.job_id)

    scheduler.add_listener(submitted, EVENT_JOB_SUBMITTED)
    scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)


def start_scheduler(scheduler: BaseScheduler, plans: list[JobPlan]) -> None:
    """Start; the jobs are reconciled once the job store is open and before any due job runs."""
    def on_start(_event: SchedulerEvent) -> None:
        sync_jobs(scheduler, plans)
        for job in scheduler.get_jobs():
            log.info("scheduler_job", job=job.id, next_run=job.next_run_time.isoformat() if job.next_run_time else None)

    scheduler.add_listener(on_start, EVENT_SCHEDULER_STARTED)
    _log_events(scheduler)
    scheduler.start()


def run_scheduler(settings: Settings, plans: list[JobPlan], *, handle_signals: bool = True) -> bool:
    """Run the blocking scheduler until SIGTERM or SIGINT; a running job is finished first.

    Only the leader runs jobs (see notifier/leader.py); the others wait on standby. Returns False
    when leadership was lost while running, so the caller can exit non-zero and be restarted.
    """
    scheduler = build_scheduler(settings, BlockingScheduler)
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        if stopping.is_set():
            log.info("scheduler_already_stopping", signal=signum)
            return
        stopping.set()
        log.info("scheduler_stopping", signal=signal.Signals(signum).name)
        try:
            scheduler.shutdown(wait=True)  # waits for the running job, starts no other
        except SchedulerNotRunningError:
            log.info("scheduler_not_running")

    if handle_signals:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    lock = LeaderLock(settings.database_url)
    if not _wait_for_leadership(lock, stopping, settings.leader_poll_seconds):
        log.info("scheduler_stopped")
        return True
    lost = threading.Event()
    watchdog = threading.Thread(target=_watch_leadership, args=(lock, scheduler, stopping, lost,
                                                                settings.leader_poll_seconds),
                                name="leader-watchdog", daemon=True)
    watchdog.start()
    log.info("scheduler_starting", jobs=len(plans), database=get_engine(settings.database_url).url.render_as_string(hide_password=True))
    try:
        start_scheduler(scheduler, plans)
    finally:
        stopping.set()
        lock.release()
    log.info("scheduler_stopped")
    return not lost.is_set()


def _wait_for_leadership(lock: LeaderLock, stopping: threading.Event, poll: float) -> bool:
    """Block until this process leads (True) or is asked to stop while on standby (False)."""
    announced = False
    while not stopping.is_set():
        if lock.try_acquire():
            log.info("scheduler_leader")
            return True
        if not announced:
            log.info("scheduler_standby", poll_seconds=poll)
            announced = True
        stopping.wait(poll)
    return False


def _watch_leadership(lock: LeaderLock, scheduler: BaseScheduler, stopping: threading.Event,
                      lost: threading.Event, poll: float) -> None:
    """A leader whose lock connection died may have been replaced: it stops rather than run twice."""
    while not stopping.wait(poll):
        if not lock.alive():
            lost.set()
            log.error("scheduler_lost_leadership")
            try:
                scheduler.shutdown(wait=True)
            except SchedulerNotRunningError:
                pass
            return
