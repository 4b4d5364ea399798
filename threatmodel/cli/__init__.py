"""Command-line interface: the only layer that prints and exits.

Each command lives in its own module here and exposes ``register(app)``; this module finds
them, runs Typer, and maps the typed errors of errors.py to one-line messages and exit codes:
0 clean, 1 findings at or above --fail-on, 2 usage, configuration, repository or provider
errors. Set THREATMODEL_DEBUG=1 to see a traceback for an unexpected error.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import pkgutil
import signal
import sys
import threading
from typing import Annotated, Any

import typer
import typer.core

from threatmodel import __version__
from threatmodel.errors import ThreatModelError

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
ROOT_HELP = (
    "Threat-model a repository the way a careful attacker would, with receipts.\n\n"
    "Start with `threatmodel scan PATH`: it writes THREAT_MODEL.md. Exit codes: 0 clean, "
    "1 a confirmed finding at or above --fail-on, 2 a usage, input, repository or provider "
    "error (one line on stderr says how to fix it)."
)


def build_app(argv: list[str] | None = None) -> typer.Typer:
    """The Typer app; with ``argv`` naming a command, only that command's module is imported.

    Each command module is named after its command. Importing all of them costs ``scan`` a
    third of a second (prompt_toolkit for ``ask``, GitPython for ``diff``), which is the whole
    budget of a warm scan of a small repository; ``--help`` and errors still see every command.
    """
    _hide_flag_types()
    app = typer.Typer(
        name="threatmodel",
        help=ROOT_HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root(
        version: Annotated[
            bool,
            typer.Option(
                "--version",
                callback=_print_version,
                is_eager=True,
                help="Print the version and exit.",
            ),
        ] = False,
    ) -> None:
        """Threat-model a repository the way a careful attacker would, with receipts."""

    import threatmodel.cli as package

    names = sorted(i.name for i in pkgutil.iter_modules(package.__path__) if i.name[0] != "_")
    command = next((a for a in argv or [] if not a.startswith("-")), None)
    for name in [command] if command in names else names:
        importlib.import_module(f"{package.__name__}.{name}").register(app)
    return app


def _print_version(value: bool) -> None:
    if value:
        print(f"threatmodel {__version__}")
        raise typer.Exit(0)


def _hide_flag_types() -> None:
    """Show a flag as ``--quiet -q``, not ``--quiet -q <bool>``.

    Typer's rich help prints every option's type, flags included, which reads as if
    ``--quiet true`` were the way to use it (it is an error). Its plain help already leaves
    flags bare; this makes the rich panel agree. Guarded: a Typer without the hook is left
    as it is.
    """
    option = getattr(typer.core, "TyperOption", None)
    shown = getattr(option, "display_type_rich", None)
    if option is None or shown is None or getattr(shown, "hides_flags", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) and not getattr(self, "count", False):
            return None
        return shown(self, ctx)

    display_type_rich.hides_flags = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich


class _Terminated(BaseException):
    """Raised by the SIGTERM handler; a BaseException so no `except Exception` swallows it."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


def main(argv: list[str] | None = None) -> None:
    # A scan allocates millions of small objects (parse trees, extracts, facts) that live
    # until it ends; with the default thresholds the collector runs every 700 allocations
    # and keeps re-scanning the growing old generation: a sixth of a warm scan's time
    # (benchmarks/, issue 11). Cycles are still collected, just less often.
    gc.set_threshold(50_000, 20, 20)
    # When the process ends, the interpreter's last collections walk the whole heap again
    # (saleor: 0.3-0.5 s after the report is written, every scan). Nothing left then needs
    # the cyclic collector: memory goes back to the system with the process. Registered
    # now, so the freeze runs after every handler registered later (the pool's, tempfiles).
    atexit.unregister(gc.freeze)  # once, however often main() runs in one process
    atexit.register(gc.freeze)
    # A terminated scan (CI cancelling a job, `kill`) unwinds like an interrupt, so the
    # proof's PostgreSQL and scratch files are cleaned up by their `finally` blocks.
    if threading.current_thread() is threading.main_thread():  # signal() works only there
        signal.signal(signal.SIGTERM, _terminated)
    app = build_app(sys.argv[1:] if argv is None else argv)
    try:
        app(args=argv, prog_name="threatmodel")
    except ThreatModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except _Terminated:
        print("terminated", file=sys.stderr)
        sys.exit(143)
    except Exception as exc:
        if os.environ.get("THREATMODEL_DEBUG"):
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (this is a bug in threatmodel; "
            "re-run with THREATMODEL_DEBUG=1 for the traceback and report it)",
            file=sys.stderr,
        )
        sys.exit(EXIT_ERROR)
