"""A real nginx on loopback with the example server block of deploy/nginx.conf, for tests and benchmarks.

Only paths and ports are substituted, so what is tested and measured is the configuration the README ships.
"""

from __future__ import annotations

import getpass
import http.client
import os
import shutil
import subprocess
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
MAIN = """
daemon off;
worker_processes {workers};
pid {work}/nginx.pid;
error_log {work}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    default_type application/octet-stream;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/feedserver.conf;
}}
"""


def nginx_binary() -> str | None:
    """The nginx executable, or None when it is not installed."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def site_config(public_dir: Path, port: int, app_port: int) -> str:
    """deploy/nginx.conf with the publish directory, listen port and gunicorn port of this run."""
    text = EXAMPLE.read_text(encoding="utf-8")
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{port};",
        "root /srv/feedserver/public;": f"root {public_dir};",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
    }
    for old, new in replacements.items():
        if old not in text:
            raise RuntimeError(f"deploy/nginx.conf no longer contains {old!r}")
        text = text.replace(old, new)
    return text


def start(work: Path, public_dir: Path, port: int, app_port: int, workers: int = 1) -> subprocess.Popen:
    """Start nginx in the foreground with its files under `work`; wait until it answers on `port`."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed (Debian: apt-get install -y nginx-light)")
    work.mkdir(parents=True, exist_ok=True)
    (work / "feedserver.conf").write_text(site_config(public_dir, port, app_port), encoding="utf-8")
    # As root nginx would switch its workers to "nobody", who cannot read a private temporary directory.
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    (work / "nginx.conf").write_text(MAIN.format(work=work, workers=workers, user=user), encoding="utf-8")
    process = subprocess.Popen(
        [binary, "-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(work / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {process.stderr.read().decode(errors='replace')}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("HEAD", "/feeds/")
            connection.getresponse().read()
            connection.close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("nginx did not start within 10 s")


def stop(process: subprocess.Popen) -> None:
    """Stop nginx quickly (SIGTERM) and wait for it."""
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)
