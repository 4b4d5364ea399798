"""The request sources of ``combos``: each way a handler can read the request.

``SOURCES`` are the building blocks first written for the tuning idioms (a wrapper class,
a helper function, a header name picked in a loop ...); ``REQUEST_API`` walks werkzeug's
whole request surface as Flask hands it out: ``args`` / ``form`` / ``values`` (a
``MultiDict``: ``get``, ``[]``, ``getlist``, ``to_dict``, ``items``, ``keys``, ``values``,
``lists``, iteration), ``headers`` (``EnvironHeaders``: ``get_all``, ``getlist``, iteration
as (name, value) pairs), ``cookies``, ``files`` (``FileStorage``), the body (``get_json``,
``json``, ``get_data``, ``data``, ``stream``), ``environ``, ``query_string`` parsed by
hand, the URL (``url``, ``full_path``; the latter starts with a path of this site, so it is
no open redirect). A key is request input as much as a value (the caller names the
parameters and headers); a name compared equal to a constant is that constant. Values
the caller does not choose are not input: ``method``, a membership test,
a length, and ``request.path`` in a handler whose routes are all fixed paths (the router
matched it exactly; ``combos`` writes such routes).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """One building block: ``code`` reads ``{i}`` (a propagator's input) and writes
    ``{o}``; ``{n}`` makes its own names unique. ``keeps``: the output carries the
    request input (a source: it reads the request at all)."""

    name: str
    code: str
    keeps: bool
    # kinds it is no input for: the request's own path cannot start a URL that leaves the
    # site (``dataflow/urlhead.py``)
    safe_for: frozenset[str] = frozenset()


SOURCES = (
    Block("args", "{o} = request.args.get('k') or ''", True),
    Block(
        "form_list",
        "vals{n} = request.form.getlist('k')\n{o} = vals{n}[0] if vals{n} else ''",
        True,
    ),
    Block(
        "cookie",
        "import urllib.parse\n{o} = urllib.parse.unquote_plus(request.cookies.get('k', ''))",
        True,
    ),
    Block(
        "header_name",
        "{o} = ''\nfor name{n} in request.headers.keys():\n"
        "    if name{n}.lower() in ('host', 'accept'):\n        continue\n"
        "    {o} = name{n}\n    break",
        True,
    ),
    Block("wrapper", "w{n} = helpers.Wrapped(request)\n{o} = w{n}.query('k') or ''", True),
    Block("wrapper_fixed", "w{n} = helpers.Wrapped(request)\n{o} = w{n}.fixed('k')", False),
    Block("helper_fn", "{o} = helpers.read_param(request, 'k') or ''", True),
    Block("json_body", "{o} = (request.get_json(silent=True) or {{}}).get('k', '')", True),
)


# werkzeug's request surface (see the module docstring); ``{o}`` is the value read.
REQUEST_API = (
    Block("args_sub", "{o} = request.args['k']", True),
    Block(
        "args_getlist_loop",
        "{o} = ''\nfor x{n} in request.args.getlist('k'):\n    {o} = x{n}",
        True,
    ),
    Block("args_to_dict", "d{n} = request.args.to_dict()\n{o} = d{n}.get('k', '')", True),
    Block(
        "args_to_dict_lists",
        "d{n} = request.args.to_dict(flat=False)\n"
        "vs{n} = d{n}.get('k')\n"
        "{o} = ''\n"
        "if vs{n}:\n"
        "    {o} = vs{n}[0]",
        True,
    ),
    Block("args_dict", "d{n} = dict(request.args)\n{o} = d{n}.get('k', '')", True),
    Block(
        "args_items",
        "{o} = ''\n"
        "for key{n}, val{n} in request.args.items():\n"
        "    if key{n} == 'k':\n"
        "        {o} = val{n}",
        True,
    ),
    Block(
        "args_items_multi",
        "{o} = ''\nfor key{n}, val{n} in request.args.items(multi=True):\n    {o} = val{n}",
        True,
    ),
    Block(
        "args_keys_name",
        "{o} = ''\n"
        "for name{n} in request.args.keys():\n"
        "    if 'x' in request.args.getlist(name{n}):\n"
        "        {o} = name{n}\n"
        "        break",
        True,
    ),
    Block("args_iter_name", "{o} = ''\nfor name{n} in request.args:\n    {o} = name{n}", True),
    Block("args_values", "{o} = ''\nfor val{n} in request.args.values():\n    {o} = val{n}", True),
    Block(
        "args_lists",
        "{o} = ''\n"
        "for key{n}, vals{n} in request.args.lists():\n"
        "    if vals{n}:\n"
        "        {o} = vals{n}[0]",
        True,
    ),
    Block(
        "args_listvalues",
        "{o} = ''\nfor vals{n} in request.args.listvalues():\n    {o} = vals{n}[0]",
        True,
    ),
    Block("args_get_type", "{o} = str(request.args.get('k', type=str) or '')", True),
    Block("values_get", "{o} = request.values.get('k', '')", True),
    Block(
        "values_getlist",
        "vs{n} = request.values.getlist('k')\n{o} = vs{n}[0] if vs{n} else ''",
        True,
    ),
    Block("form_sub", "{o} = request.form['k']", True),
    Block("form_to_dict", "{o} = request.form.to_dict().get('k', '')", True),
    Block(
        "form_items",
        "{o} = ''\nfor key{n}, val{n} in request.form.items():\n    {o} = val{n}",
        True,
    ),
    Block(
        "query_string",
        "qs{n} = request.query_string.decode('utf-8')\n"
        "mark{n} = 'k='\n"
        "at{n} = qs{n}.find(mark{n})\n"
        "if at{n} == -1:\n"
        "    return 'missing'\n"
        ""
        "{o} = qs{n}[at{n} + len(mark{n}):]\n"
        "amp{n} = qs{n}.find('&', at{n})\n"
        "if amp{n} != -1:\n"
        "    {o} = qs{n}[at{n} + len(mark{n}):amp{n}]\n"
        "{o} = urllib.parse.unquote_plus({o})",
        True,
    ),
    Block(
        "query_string_idx",
        "qs{n} = request.query_string.decode()\n"
        "mark{n} = 'k='\n"
        "at{n} = qs{n}.index(mark{n}) if mark{n} in qs{n} else -1\n"
        "if at{n} < 0:\n"
        "    return 'missing'\n"
        "{o} = urllib.parse.unquote(qs{n}[at{n} + len(mark{n}):].split('&')[0])",
        True,
    ),
    Block(
        "parse_qs",
        "q{n} = urllib.parse.parse_qs(request.query_string.decode())\n{o} = q{n}.get('k', [''])[0]",
        True,
    ),
    Block("header_get", "{o} = request.headers.get('X-K', '')", True),
    Block("header_sub", "{o} = request.headers['X-K']", True),
    Block(
        "header_get_all",
        "hs{n} = request.headers.get_all('X-K')\n{o} = hs{n}[0] if hs{n} else ''",
        True,
    ),
    Block(
        "header_getlist",
        "hs{n} = request.headers.getlist('X-K')\n{o} = ''\nif hs{n}:\n    {o} = hs{n}[0]",
        True,
    ),
    Block(
        "header_iter_pairs",
        "{o} = ''\n"
        "for hname{n}, hval{n} in request.headers:\n"
        "    if hname{n}.lower() == 'x-k':\n"
        "        {o} = hval{n}",
        True,
    ),
    Block(
        "header_items",
        "{o} = ''\n"
        "for hname{n}, hval{n} in request.headers.items():\n"
        "    if hname{n} == 'X-K':\n"
        "        {o} = hval{n}\n"
        "        break",
        True,
    ),
    Block(
        "header_items_name",
        "{o} = ''\n"
        "for hname{n}, hval{n} in request.headers.items():\n"
        "    if hname{n}.lower() in ('host', 'accept'):\n"
        "        continue\n"
        "    {o} = hname{n}\n"
        "    break",
        True,
    ),
    Block(
        "header_keys_getall",
        "{o} = ''\n"
        "for hname{n} in request.headers.keys():\n"
        "    if request.headers.get_all(hname{n}):\n"
        "        {o} = hname{n}\n"
        "        break",
        True,
    ),
    Block(
        "header_values",
        "{o} = ''\nfor hval{n} in request.headers.values():\n    {o} = hval{n}",
        True,
    ),
    Block("environ_get", "{o} = request.environ.get('HTTP_X_K', '')", True),
    Block("environ_qs", "{o} = request.environ.get('QUERY_STRING', '')", True),
    Block("json_sub", "data{n} = request.get_json(force=True)\n{o} = data{n}['k']", True),
    Block("json_attr", "{o} = (request.json or {{}}).get('k', '')", True),
    Block("get_data", "{o} = request.get_data(as_text=True)", True),
    Block("data_decode", "{o} = request.data.decode('utf-8')", True),
    Block("stream", "{o} = request.stream.read().decode('utf-8')", True),
    Block("files_name", "{o} = request.files['f'].filename or ''", True),
    Block("files_read", "{o} = request.files['f'].read().decode('utf-8')", True),
    Block(
        "files_get", "fs{n} = request.files.get('f')\n{o} = fs{n}.filename if fs{n} else ''", True
    ),
    Block("cookie_sub", "{o} = request.cookies['k']", True),
    Block(
        "cookie_items",
        "{o} = ''\nfor cname{n}, cval{n} in request.cookies.items():\n    {o} = cval{n}",
        True,
    ),
    Block("url", "{o} = request.url", True),
    Block("full_path", "{o} = request.full_path", True, frozenset({"open_redirect", "ssrf"})),
    Block("path_fixed_route", "{o} = request.path", False),
    Block("user_agent", "{o} = request.user_agent.string", True),
    Block("referrer", "{o} = request.referrer or ''", True),
    Block("view_args", "{o} = (request.view_args or {{}}).get('k', '')", True),
    Block(
        "try_json",
        "try:\n    {o} = request.get_json()['k']\nexcept (TypeError, KeyError):\n    {o} = ''",
        True,
    ),
    # not request-controlled
    Block("method", "{o} = request.method", False),
    Block("has_arg", "{o} = 'yes' if 'k' in request.args else 'no'", False),
    Block("arg_len", "{o} = str(len(request.args.get('k', '')))", False),
    Block(
        "header_name_const",
        "{o} = ''\n"
        "for hname{n} in request.headers.keys():\n"
        "    if hname{n} == 'Accept':\n"
        "        {o} = hname{n}",
        False,
    ),
)
