"""The gateway's Celery app: the broker, the queues, the schedule, and tasks in app context.

Redis is the broker when ``REDIS_URL`` is set. With nothing set, kombu's SQLAlchemy transport
keeps the messages in a SQLite file in the instance folder, so one machine runs the web
processes, the workers and the scheduler with no server to install; any broker kombu knows
can be named with ``GATEWAY_BROKER_URL``. Tasks carry row ids and lease tokens only, never a
credential: whatever a task needs is read from the database by the worker.

Workers take the queues in :data:`QUEUES`; ``make run`` starts one worker for the parents'
interactive and the scheduled syncs, and another for backfills, so that reading a child's
school year never holds up a parent.
"""

from __future__ import annotations

import typing as t

from celery import Celery
from celery import Task
from flask import Flask

from gateway import jobs

QUEUES = ("interactive", "scheduled", "backfill")


def init_celery(
    app: Flask, *, tick_seconds: float, checkpoint_seconds: float, send_seconds: float
) -> Celery:
    """Bind a Celery app to ``app``: every task runs inside its app context."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    broker = app.config["BROKER_URL"]
    celery.conf.update(
        broker_url=broker,
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(broker),
        task_ignore_result=True,
        task_default_queue="scheduled",
        task_queues=None,
        task_create_missing_queues=True,
        # One task at a time per worker thread: a long sync must not hide others behind it.
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        beat_schedule={
            "sync-tick": {"task": jobs.TICK, "schedule": tick_seconds},
            "housekeeping": {"task": jobs.HOUSEKEEPING, "schedule": 3600.0},
            "log-checkpoint": {"task": jobs.CHECKPOINT, "schedule": checkpoint_seconds},
            "notify-send": {"task": jobs.SEND, "schedule": send_seconds},
        },
    )
    if app.config.get("TELEGRAM_TOKEN"):  # no bot, nothing to read
        celery.conf.beat_schedule["telegram-receive"] = {
            "task": jobs.RECEIVE,
            "schedule": float(app.config["TELEGRAM_POLL_SECONDS"]),
        }
    jobs.register(celery)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def _transport_options(broker: str) -> dict[str, t.Any]:
    if broker.startswith(("sqla+sqlite", "sqlalchemy+sqlite")):
        # Several processes share the file: wait for its lock rather than fail at once.
        return {"connect_args": {"timeout": 30}}
    return {}
