"""The deployment guide (docs/operations.md, "Step by step") run as written, in a scratch root,
so the guide, deploy/rems.env.example, deploy/postgres-roles.sql and the systemd units cannot
drift apart again.

The guide's shell block is taken from the document and run by bash with its absolute paths
(/srv/rems, /etc/rems, /etc/systemd/system, /etc/nginx) moved under the scratch root. What
needs a real Debian machine is stood in for by shell functions that log what they were asked:
apt-get, adduser (makes the home directory), sudo -u USER (runs the command as the test's own
user), systemctl, nginx (tests/production/test_deploy_files.py parses the site), `git clone`
(copies this working tree) and the virtualenv (a link to the test's own: installing the
dependencies again would need the network). psql reaches the test's PostgreSQL as its superuser,
with a database and roles of the test's own (`-v dbname= -v owner= -v app=`, which the guide's
`-v dbname=rems` gives way to). Between steps 2 and 3 the settings file is filled in, as the
guide says, with values that need its quoting (spaces, `&`, `$`). Marked `slow`, PostgreSQL.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.production.servers import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

GUIDE = ROOT / "docs" / "operations.md"
MOVED = ("/srv/rems", "/etc/rems", "/etc/systemd/system", "/etc/nginx")
PASSWORD = "Guide-Steps-Passphrase-2026"
#: The one form systemd's EnvironmentFile= and sh read alike (the settings file's rule).
ASSIGNMENT = re.compile(r"[A-Z][A-Z0-9_]*='[^']*'")
STAND_INS = r"""
set -euo pipefail
log() { echo "$*" >> "$SCRATCH/machine.log"; }
apt-get() { log "apt-get $*"; }
adduser() { log "adduser $*"; mkdir -p "$SCRATCH/srv/rems"; }
systemctl() { log "systemctl $*"; }
nginx() { log "nginx $*"; }
sudo() {
  [ "$1" = -u ] || { echo "sudo without -u: $*" >&2; return 1; }
  shift 2
  case "$1" in
    */.venv/bin/pip) log "pip $*";;  # the linked virtualenv has the dependencies already
    *) "$@";;
  esac
}
git() {
  if [ "$1" = clone ]; then
    local target="${@: -1}"
    (cd "$WORKTREE" && command git ls-files -co --exclude-standard -z | tar --null -T - -cf -) \
      | tar -xf - -C "$target"
  else command git "$@"; fi
}
python3() {
  if [ "$1 $2" = "-m venv" ]; then ln -s "$VENV" "$3"; else command python3 "$@"; fi
}
install() {  # no `rems` group here: the mode is kept, the group left out
  local args=() skip=0
  for arg in "$@"; do
    if [ $skip = 1 ]; then skip=0; elif [ "$arg" = -g ]; then skip=1; else args+=("$arg"); fi
  done
  command install "${args[@]}"
}
psql() { command psql "$PSQL_URL" "$@" -v dbname="$DB" -v owner="$OWNER" -v app="$APP"; }
mkdir -p "$SCRATCH/etc/systemd/system" "$SCRATCH/etc/nginx/snippets" \
  "$SCRATCH/etc/nginx/sites-available" "$SCRATCH/etc/nginx/sites-enabled"
export RELEASE=main REPOSITORY=https://git.example.org/rems.git
"""


def _guide_block() -> str:
    """The guide's step-by-step shell block, exactly as printed."""
    text = GUIDE.read_text()
    section = text[text.index("Step by step, on Debian 12") :]
    start = section.index("```sh\n") + len("```sh\n")
    return section[start : section.index("\n```", start)]


def _moved(block: str, scratch: Path) -> str:
    for path in MOVED:
        block = block.replace(path, f"{scratch}{path}")
    return block


def _filled_settings(example: str, settings: dict[str, str]) -> str:
    """The settings file with the operator's values in place of the example's."""
    lines = []
    for line in example.splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}='{settings[name]}'" if name in settings else line)
    return "\n".join(lines) + "\n"


@pytest.fixture
def names(databases):
    """A database and two roles of this test's own, dropped afterwards."""
    suffix = f"{os.getpid()}"
    made = {"DB": f"rems_guide_{suffix}", "OWNER": f"rems_guide_owner_{suffix}",
            "APP": f"rems_guide_app_{suffix}"}  # fmt: skip
    yield made
    with databases.admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{made["DB"]}" WITH (FORCE)')
        for role in (made["APP"], made["OWNER"]):
            connection.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')


def _run(script: str, env: dict[str, str], stdin: str = "") -> None:
    done = subprocess.run(["bash", "-c", script], env=env, input=stdin, text=True,
                          capture_output=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"


def test_the_deployment_guide_runs_as_written(tmp_path, databases, names, redis_url):
    admin_url = databases.admin.url.set(drivername="postgresql")
    scratch = tmp_path / "root"
    scratch.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REMS_", "DATABASE_URL"))},
        **names, "SCRATCH": str(scratch), "WORKTREE": str(ROOT),
        "VENV": str(Path(sys.executable).parents[1]),
        "PSQL_URL": admin_url.set(database="postgres").render_as_string(hide_password=False),
    }  # fmt: skip
    steps = _moved(_guide_block(), scratch)
    before, after = steps.split("\n# 3.", 1)
    _run(STAND_INS + before, env)
    settings_file = scratch / "etc/rems/rems.env"
    assert oct(settings_file.stat().st_mode & 0o777) == "0o640"
    database = admin_url.set(database=names["DB"])
    settings = {
        "SECRET_KEY": "f" * 64, "TRUSTED_HOSTS": "rems.test",
        "DATABASE_URL": database.set(username=names["APP"]).render_as_string(False),
        "OWNER_DATABASE_URL": database.set(username=names["OWNER"]).render_as_string(False),
        "RATELIMIT_STORAGE_URI": redis_url, "AUDIT_ANCHOR_KEY": "anchor key & more",
        "AUDIT_ANCHOR_PATH": str(scratch / "var/lib/rems/audit-anchors"),
        "MAIL_SERVER": "", "MAIL_PASSWORD": "p&ss word $HOME", "METRICS_TOKEN": "scrape",
    }  # fmt: skip
    settings_file.write_text(_filled_settings(settings_file.read_text(), settings))
    _run(STAND_INS + f"cd {scratch}/srv/rems\n# 3." + after, env, stdin=f"{PASSWORD}\n" * 2)
    _check_settings_file(settings_file)
    _check_the_jobs_run(scratch, settings_file, env)
    _check_the_database(database, names)
    machine = (scratch / "machine.log").read_text()
    (enabled,) = [line for line in machine.splitlines() if "systemctl enable --now" in line]
    timers = {path.name for path in (ROOT / "deploy/systemd").glob("rems-*.timer")}
    assert enabled.split()[3] == "rems.service" and set(enabled.split()[4:]) == timers
    assert (scratch / "etc/nginx/sites-enabled/rems.conf").resolve().is_file()


def _check_settings_file(settings_file: Path) -> None:
    """Every setting in the form both systemd and sh read alike, and sh reads it literally."""
    for line in settings_file.read_text().splitlines():
        assert not line.strip() or line.startswith("#") or ASSIGNMENT.fullmatch(line), line
    loaded = subprocess.run(
        ["sh", "-c", f'set -a; . "{settings_file}"; printf %s "$MAIL_PASSWORD|$MAIL_FROM"'],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert loaded == "p&ss word $HOME|LEMTRADA REMS <rems@example.org>"


def _check_the_jobs_run(scratch: Path, settings_file: Path, env: dict[str, str]) -> None:
    """The audit-anchor job, as its unit runs it, with the settings as the guide leaves them."""
    unit = (scratch / "etc/systemd/system/rems-job@.service").read_text()
    assert "StateDirectory=rems" in unit
    job = f'set -a; . "{settings_file}"; cd "{scratch}/srv/rems"; .venv/bin/flask --app wsgi rems'
    _run(f"{job} audit-anchor", env)
    assert (scratch / "var/lib/rems/audit-anchors").read_text().count("\n") == 1


def _check_the_database(database: sa.URL, names: dict[str, str]) -> None:
    """Migrated, the administrator made, and the audit trail append-only for the app's role."""
    engine = sa.create_engine(database.set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT count(*) FROM user_account")) == 1
            may_update = connection.scalar(
                sa.text("SELECT has_table_privilege(:app, 'audit_event', 'UPDATE')"),
                {"app": names["APP"]},
            )
            assert may_update is False
            owner = connection.scalar(
                sa.text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_event'")
            )
            assert owner == names["OWNER"]
    finally:
        engine.dispose()
