"""The scheduler's job table (APScheduler 3's SQLAlchemyJobStore layout), owned by our migrations.

APScheduler would create it on first start; declaring it here lets `convoca db upgrade` build it
and keeps the models and the migrations in agreement.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from models.base import Base

SCHEDULER_JOBS_TABLE = "apscheduler_jobs"

scheduler_jobs = Table(
    SCHEDULER_JOBS_TABLE,
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
