"""Background jobs on huey: SQLite storage by default, Redis in production.

Why huey: one small, well-kept library that stores its queue in SQLite (no broker to install
for the embedded default) or in Redis (production), with retries, delays, periodic tasks and
results. Celery and Dramatiq need a broker server; RQ needs Redis even on a laptop.
"""

from woorizip.queue.factory import JobQueue, build_queue

__all__ = ["JobQueue", "build_queue"]
