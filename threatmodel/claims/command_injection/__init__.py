"""command_injection: a shell command or program is chosen by request input."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

_SUBPROCESS = ("run", "call", "Popen", "check_output", "check_call")

SPEC = KindSpec(
    kind="command_injection",
    title="OS command injection",
    meaning="a shell command at `location` is built from user input",
    params="location",
    cwe=("CWE-78",),
    stride=("tampering", "elevation_of_privilege"),
    severity="critical",
    help="Run a fixed program with an argument list and no shell; never put input in a "
    "shell string (shlex.quote when a shell is unavoidable).",
    sink_fact="command",
    sinks=(
        *(SinkRow(f"os.{f}") for f in ("system", "popen", "popen2", "popen3")),
        *(SinkRow(f"os.{f}", arg=-1) for f in ("execl", "execlp", "execv", "execvp", "spawnl")),
        *(SinkRow(f"os.{f}", arg=-1) for f in ("execle", "execlpe", "execve", "execvpe")),
        *(SinkRow(f"os.{f}", arg=-1) for f in ("spawnle", "spawnlp", "spawnlpe", "spawnv")),
        *(SinkRow(f"os.{f}", arg=-1) for f in ("spawnve", "spawnvp", "spawnvpe", "startfile")),
        *(SinkRow(f"os.{f}", arg=-1) for f in ("posix_spawn", "posix_spawnp")),
        SinkRow("pty.spawn"),
        SinkRow("asyncio.create_subprocess_exec"),  # the program; its arguments are argv
        SinkRow("subprocess.getoutput"),
        SinkRow("subprocess.getstatusoutput"),
        SinkRow("commands.getoutput"),
        *(SinkRow(f"subprocess.{f}", when="command") for f in _SUBPROCESS),
        *(SinkRow(f"subprocess.{f}", kw="args", arg=None, when="command") for f in _SUBPROCESS),
        SinkRow("asyncio.create_subprocess_shell"),
        *(js(f"child_process.{f}") for f in ("exec", "execSync", "spawn", "spawnSync")),
        *(js(f"child_process.{f}") for f in ("execFile", "execFileSync")),
        *(js(f) for f in ("shelljs.exec", "execa.command", "execa.commandSync")),
    ),
    sanitizers=("shlex.quote", "pipes.quote", "int", "float", "parseInt", "parseFloat", "Number"),
    guard_needles=(";", "&", "|", "$", "`", "\n"),
    guard_needs_all=True,
)
