"""gunicorn settings for feedserver's web instances: `gunicorn -c deploy/gunicorn.conf.py 'wsgi:app'`.

The web instances only serve; polling runs in `feedserver worker` (deploy/feedserver-worker.service).
Every number can be overridden from the environment (FEEDSERVER_BIND, FEEDSERVER_WEB_WORKERS, ...).

Worker class and counts were chosen by measurement: `bench/scale_bench.py --compare-workers` serves the
cached 100-item Atom feed (46 kB) and its 304 revalidation to wrk (32 connections, median of 3 rounds of
4 s) on the 2-core benchmark machine, which also runs wrk and, that day, other work (figures vary by
+-30 % between runs; "CPU" is the server processes' CPU time per request, the steadier figure). 2026-11-21:
    class    workers x threads   200: req/s   p99 ms  CPU us |  304: req/s   p99 ms  CPU us
    sync           2 x 1              4,189     15.0     293 |       4,219     13.4       -
    sync           4 x 1              3,855     22.4     289 |       3,361     25.0     292
    sync           5 x 1              3,562     38.9     330 |       3,347     23.3     291
    gthread        2 x 4              4,782    287.6     266 |       5,012     30.4     279
    gthread        4 x 4              2,728    390.5     304 |       3,966    146.6     311
    gthread        2 x 8              2,091    246.2     272 |       2,634    741.7     277
So: gthread with one process per core and 4 threads: the most requests and the least CPU per request,
and it keeps connections alive (nginx's `keepalive 32` upstream, CDNs, readers that reuse connections),
which sync workers cannot; a slow client or a slow PostgreSQL/Redis answer holds one thread, not a
process. More processes than cores only added contention (and ~90-110 MB of memory each).
"""

import multiprocessing
import os

from prometheus_client import multiprocess

_cores = multiprocessing.cpu_count()

bind = os.environ.get("FEEDSERVER_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("FEEDSERVER_WEB_WORKER_CLASS", "gthread")
workers = int(os.environ.get("FEEDSERVER_WEB_WORKERS", _cores))
threads = int(os.environ.get("FEEDSERVER_WEB_THREADS", 4))

# Timeouts: a feed is bytes from the cache; anything slower than this is stuck, not busy.
timeout = 30
graceful_timeout = 30
keepalive = 15  # seconds an idle connection stays open: above nginx's upstream keepalive_timeout (10 s)
# Recycle workers now and then so slow leaks never grow without bound; the jitter staggers the restarts.
max_requests = 50_000
max_requests_jitter = 5_000
# The app itself decides whom to believe about X-Forwarded-* ([server] proxy_hops -> werkzeug ProxyFix);
# gunicorn's own forwarded handling is switched off so that setting is the only one.
forwarded_allow_ips = ""
# Logs to stderr (journald under systemd); no access log by default: nginx keeps one.
accesslog = os.environ.get("FEEDSERVER_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("FEEDSERVER_LOG_LEVEL", "info")
# Each worker builds its own app (database pool, Redis connection): nothing is shared across fork.
preload_app = False
proc_name = "feedserver-web"

# /metrics ([metrics] enabled) adds up the counters of every worker process: prometheus_client keeps them in
# files under PROMETHEUS_MULTIPROC_DIR, which must exist and be emptied before gunicorn starts (the systemd
# unit's ExecStartPre does both); a dead worker's live gauges are dropped when it exits.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):

    def child_exit(server, worker):
        """Forget the gauges of a worker process that ended."""
        multiprocess.mark_process_dead(worker.pid)
