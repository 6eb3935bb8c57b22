"""Many instances, on machines that share a Redis: one instance's cycle is the unit of work.

Each kabupaten/kota (or province) is its own instance: its own config, data folder, Google
project and quota. This package runs their cycles on Celery workers spread over several
machines, with Redis as broker (`app.py`, `tasks.py`); a beat schedule generated from the region
list or a folder of instance configs staggers them (`schedule.py`); a lock in Redis keeps two
cycles of one instance from overlapping across machines (`lock.py`); `runner.py` runs one cycle
as `kkmp-sheets run --once` under that lock. The same instances can instead be run by
Kubernetes CronJobs (`k8s.py`). `status.py` shows which instances are behind.

Only `app.py` and `tasks.py` import Celery; the rest needs `redis` at most, so the schedule and
the manifests can be generated on a machine without the `fleet` extra.
"""
