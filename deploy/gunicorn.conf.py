"""gunicorn settings for production, behind nginx (deploy/nginx). Used by systemd/rems.service
as `gunicorn -c deploy/gunicorn.conf.py wsgi:app`; every setting can be overridden by the
environment variables below or on the command line.

Workers: gthread, 2 per core with 4 threads each (measured with `python -m bench`; see the
README's production section). nginx buffers whole requests and answers, so a worker thread is
only ever busy with the app itself, never with a slow client."""

import multiprocessing
import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "unix:/run/rems/gunicorn.sock")
umask = 0o007  # the socket: the service's user and group (nginx's www-data) only
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = 30  # a worker stuck this long is killed and replaced
graceful_timeout = 30
keepalive = 5  # seconds; nginx keeps no idle upstream connection (docs/operations.md)
max_requests = 10_000  # recycle workers now and then; jitter spreads the restarts
max_requests_jitter = 1_000
forwarded_allow_ips = "127.0.0.1"  # the app itself applies TRUSTED_PROXY_HOPS (ProxyFix)
accesslog = "-"
errorlog = "-"


def on_starting(_server):
    """Start every run with an empty Prometheus multiprocess directory."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(_server, worker):
    """A worker that ends leaves its live samples behind: mark them dead."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
