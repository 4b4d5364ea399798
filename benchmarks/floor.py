"""The parse floor: read and parse every Python and JS/TS file of a tree once, in one process.

Python with ``ast.parse``, JavaScript/TypeScript with tree-sitter (the same grammars the
collectors use). Prints the number of files parsed. Used by the benchmarks as the lower
bound a scan should approach.
"""

from __future__ import annotations

import ast
import os
import sys
import warnings

from threatmodel.code.treesitter import parse_js

SKIP = {".git", "node_modules", "dist", "build", ".venv", "venv", "__pycache__"}
JS = {
    ".js": "javascript",
    ".jsx": "jsx",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
}


def main(root: str) -> int:
    count = 0
    warnings.simplefilter("ignore")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP]
        for name in filenames:
            ext = os.path.splitext(name)[1]
            if ext != ".py" and ext not in JS:
                continue
            with open(os.path.join(dirpath, name), "rb") as fh:
                data = fh.read()
            try:
                if ext == ".py":
                    ast.parse(data)
                else:
                    parse_js(data.decode("utf-8", "replace"), JS[ext])
                count += 1
            except (SyntaxError, ValueError, RecursionError):
                pass
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
