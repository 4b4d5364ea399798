"""path_traversal: a file path is chosen by request input (read, write or serve any file)."""

from threatmodel.claims.spec import KindSpec, SinkRow, js

_FS = (
    *("readFile", "readFileSync", "createReadStream", "writeFile", "writeFileSync"),
    *("createWriteStream", "appendFile", "appendFileSync", "unlink", "unlinkSync", "rm"),
    *("rmSync", "readdir", "readdirSync", "open", "openSync"),
)

SPEC = KindSpec(
    kind="path_traversal",
    title="Path traversal",
    meaning="a filesystem path at `location` is built from user input (../ escapes the folder)",
    params="location",
    cwe=("CWE-22",),
    stride=("information_disclosure", "tampering"),
    severity="high",
    help="Resolve the path and check it stays under the intended folder "
    "(werkzeug.utils.safe_join, Path.resolve().is_relative_to).",
    sink_fact="file",
    sinks=(
        *(SinkRow(c) for c in ("open", "io.open", "codecs.open", "os.open", "os.remove")),
        *(SinkRow(c) for c in ("os.unlink", "os.rmdir", "os.listdir", "shutil.rmtree")),
        *(SinkRow(c) for c in ("shutil.copy", "shutil.copyfile", "shutil.move", "os.rename")),
        *(SinkRow(c) for c in ("flask.send_file", "django.http.FileResponse")),
        SinkRow("fastapi.responses.FileResponse"),
        SinkRow("starlette.responses.FileResponse"),
        *(SinkRow(c) for c in ("os.path.exists", "os.path.isfile", "os.path.getsize")),
        *(SinkRow(c) for c in ("os.path.isdir", "os.stat", "os.lstat", "os.scandir")),
        *(SinkRow(c) for c in ("os.mkdir", "os.makedirs", "os.chmod", "shutil.copytree")),
        # methods of a pathlib path built from input: the receiver is the dangerous value
        *(
            SinkRow(f".{m}", kw="<receiver>", when="path_receiver")
            for m in ("read_text", "read_bytes", "write_text", "write_bytes", "open")
        ),
        *(
            SinkRow(f".{m}", kw="<receiver>", when="path_receiver")
            for m in ("exists", "unlink", "is_file", "is_dir", "iterdir", "stat", "mkdir")
        ),
        *(SinkRow(f".{m}", kw="<receiver>", when="path_receiver") for m in ("touch", "rmdir")),
        *(js(f"{m}.{f}") for m in ("fs", "fs.promises", "fs/promises", "fs-extra") for f in _FS),
        *(js(f".{m}", when="response") for m in ("sendFile", "download", "attachment")),
        # ``res.render(view, req.body)``: the request object whole is the view engine's
        # options (Express passes the locals so): hbs renders the file its ``layout`` names
        # around the view (``"layout": "../package.json"`` prints any file)
        *(js(f".{m}", arg=1, when="view_options") for m in ("render", "view")),
    ),
    sanitizers=(
        "werkzeug.utils.secure_filename",
        "werkzeug.utils.safe_join",
        "flask.safe_join",
        "os.path.basename",
        # both drop path separators and refuse "." / ".." (a file name, never a path)
        "pathvalidate.sanitize_filename",
        "django.utils.text.get_valid_filename",
        "int",
        "uuid.UUID",
        *("path.basename", "parseInt", "Number", "sanitize-filename"),
    ),
    guard_needles=("..", "/"),
    prefix_guard=True,
)
