"""A shell command built from a request was called safe (found on an unseen FastAPI app,
Damn-Vulnerable-RESTaurant): ``subprocess.run(cmd, shell=True)`` was "a fixed program with
an argument list" by the catalog row for ``args=``, a keyword the call does not pass."""

from __future__ import annotations

from tests.test_dataflow import run


def test_a_shell_command_is_not_called_safe_by_an_absent_keyword() -> None:
    flows = run(
        """
        @app.post("/x")
        def view():
            cmd = "df -h " + request.args["p"]
            return subprocess.run(cmd, stdout=subprocess.PIPE, shell=True)
        """
    )
    cmd = [f for f in flows if f.claim == "command_injection"]
    assert cmd and all(f.source_kind == "request" and f.broken_by is None for f in cmd)
    # an argument list without a shell is still the safe call it was
    safe = run(
        """
        @app.post("/x")
        def view():
            return subprocess.run(["df", "-h", request.args["p"]])
        """
    )
    kept = [f for f in safe if f.claim == "command_injection"]
    assert kept and all(f.broken_by for f in kept)
