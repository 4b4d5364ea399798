"""What a value is, not where it passed: a file name's extension cannot leave a folder, and
the rows a Django model formset deletes come from the database, not the request. Each
mechanism is shown safe and tainted on the same shape."""

from __future__ import annotations

import pytest

from tests.test_dataflow import handler, proven, run

PATH = "path_traversal"
UPLOAD = "from pathlib import Path\nf = request.files['f']\n"


def flagged(lines: str, kind: str = PATH, extra: dict[str, str] | None = None) -> bool:
    return kind in proven(run(handler(lines), extra))


@pytest.mark.parametrize(
    ("safe", "unsafe"),
    [
        # the extension of a pathlib path, assigned or inline
        (
            "ext = Path(f.filename).suffix\n(Path('/d') / f'{7}{ext}').open('wb')\n",
            "ext = Path(f.filename).name\n(Path('/d') / f'{7}{ext}').open('wb')\n",
        ),
        (
            "p = Path(f.filename)\nopen('/d/x' + ''.join(p.suffixes))\n",
            "p = Path(f.filename)\nopen('/d/x' + p.stem)\n",
        ),
        # os.path.splitext: the extension is safe, the root is not
        (
            "root, ext = os.path.splitext(f.filename)\nopen('/d/x' + ext)\n",
            "root, ext = os.path.splitext(f.filename)\nopen('/d/' + root)\n",
        ),
        (
            "open('/d/x' + os.path.splitext(f.filename)[1])\n",
            "open('/d/x' + os.path.splitext(f.filename)[0])\n",
        ),
    ],
)
def test_a_path_extension_cannot_leave_the_folder(safe: str, unsafe: str) -> None:
    assert not flagged(UPLOAD + safe)
    assert flagged(UPLOAD + unsafe)


def test_suffix_is_safe_only_for_paths_and_only_for_path_traversal() -> None:
    # a request body's own field named ``suffix`` is whatever the client sent
    assert flagged("b = request.get_json()\nopen('/d/x' + b.suffix)\n")
    # an extension can still carry markup or shell characters
    markup = "from pathlib import Path\nreturn '<p>' + Path(request.args['n']).suffix\n"
    assert flagged(markup, "xss")


def test_extension_through_a_helper_function() -> None:
    helper = {
        "files.py": (
            "from pathlib import Path\n"
            "def store(f, ident):\n"
            "    ext = Path(f.name).suffix\n"
            "    with (Path('/media') / f'{ident}{ext}').open('wb+') as out:\n"
            "        out.write(f.read())\n"
            "def store_named(f):\n"
            "    with (Path('/media') / f.name).open('wb+') as out:\n"
            "        out.write(f.read())\n"
        )
    }
    top = "from files import store, store_named\n"
    assert PATH not in proven(run(top + handler("store(request.files['f'], 3)\n"), helper))
    assert PATH in proven(run(top + handler("store_named(request.files['f'])\n"), helper))


FORMSET = "fs = FileFormSet(request.POST, request.FILES, queryset=q)\nfs.save()\n"


@pytest.mark.parametrize(
    "rows",
    ["fs.deleted_objects", "getattr(fs, 'deleted_objects', [])"],
)
def test_rows_a_formset_deletes_come_from_the_database(rows: str) -> None:
    code = FORMSET + f"for o in {rows}:\n    os.remove('/media/' + o.file.name)\n"
    assert not flagged(code)
    # the objects it creates carry what the client sent
    assert flagged(code.replace("deleted_objects", "new_objects"))


def test_getattr_with_a_constant_name_is_an_attribute_read() -> None:
    assert flagged("os.system(getattr(request, 'args')['x'])\n", "command_injection")
    assert not flagged("os.system(getattr(request, 'method'))\n", "command_injection")
    assert flagged("os.system(getattr(request.args, 'x', 'ls'))\n", "command_injection")
