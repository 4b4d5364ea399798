"""The one redaction module masks every shape the three former maskers caught (report
snippets, LLM excerpts, ``ask`` excerpts), so merging them lost no coverage."""

from __future__ import annotations

import pytest

from threatmodel.code.secret_values import find_tokens, mask_tokens, token_spans
from threatmodel.redact import MASK, mask_line, mask_lines

# (line, the secret value that must not survive masking)
SHAPES = [
    ("k = 'AKIAQWERTYUIOPASDFGH'", "AKIAQWERTYUIOPASDFGH"),  # AWS access key id
    ("k = 'ASIAQWERTYUIOPASDFGH'", "ASIAQWERTYUIOPASDFGH"),  # AWS session key id
    ("k = 'AKIAIOSFODNN7EXAMPLE'", "AKIAIOSFODNN7EXAMPLE"),  # a placeholder: masked anyway
    ("k = sk_live_a1b2c3d4e5", "a1b2c3d4e5"),  # Stripe, a short body
    ("k = rk_test_a1b2c3d4e5", "a1b2c3d4e5"),  # Stripe restricted
    ("k = pk_live_a1b2c3d4e5", "a1b2c3d4e5"),  # Stripe publishable
    ("k = sk-a1b2c3d4e5f6g7h8i9j0", "a1b2c3d4e5f6g7h8i9j0"),  # OpenAI, 20 characters
    ("k = sk-proj-a1b2c3d4e5f6g7h8i9j0", "a1b2c3d4e5f6g7h8i9j0"),
    ("k = sk-ant-a1b2c3d4e5f6g7h8i9j0", "a1b2c3d4e5f6g7h8i9j0"),  # Anthropic
    ("k = ghp_" + "a1" * 15, "a1" * 15),  # GitHub, 30 characters
    ("k = ghs_" + "a1" * 15, "a1" * 15),
    ("k = github_pat_" + "a1" * 15, "a1" * 15),
    ("k = xoxb-a1b2c3d4e5", "a1b2c3d4e5"),  # Slack
    ("k = xoxs-a1b2c3d4e5", "a1b2c3d4e5"),
    ("k = AIza" + "a1B2c3D4e5" * 3 + "f6G7h", "a1B2c3D4e5"),  # Google API key
    ("t = eyJhbGciOiJI.eyJzdWIiOiJ1.a1b2c3d4", "a1b2c3d4"),  # a JWT with a short signature
    ("u = 'redis://:S3cr3tPa55@cache:6379'", "S3cr3tPa55"),  # a password in any URL
    ("u = 'ftp://bob:S3cr3tPa55@files'", "S3cr3tPa55"),
    ('password = "hunter2hunter2"', "hunter2hunter2"),  # secret name, looks_like_secret
    ('h = {"X": "Bearer a1b2c3d4e5f6g7h8i9"}', "a1b2c3d4e5f6g7h8i9"),  # a random word
    ('token_value = "qwErTyUiOpAsDfGhJk"', "qwErTyUiOpAsDfGhJk"),  # random, no digit
    ("API_KEY: Zx9Qw8Er7Ty6Ui5", "Zx9Qw8Er7Ty6Ui5"),  # unquoted, secret-named (YAML)
    ("-----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA", "MIIEpAIBAAKCAQEA"),  # cut off
    # A URL or path is judged piece by piece: a token inside one is still a random piece.
    ('u = "https://x.io/reset/a8F3kQ9zL2mN7pR4tV6w"', "a8F3kQ9zL2mN7pR4tV6w"),
    ('k = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', "bPxRfiCYEXAMPLEKEY"),  # base64 with /
    ('k = "/a1B2c3D4e5F6g7H8i9J0k1L2"', "a1B2c3D4e5F6g7H8i9J0k1L2"),  # base64 starting with /
    ('k = "/wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEK"', "K7MDENG"),  # short pieces, not names
    ("SECRET=a1B2.c3D4(e5F6g7H8", "e5F6g7H8"),  # looks like a call, but not of names
    ('x = f"Bearer a8F3kQ9zL2mN7pR4tV6w{suffix}"', "a8F3kQ9zL2mN7pR4tV6w"),  # text beside a field
]


@pytest.mark.parametrize(("line", "value"), SHAPES)
def test_every_former_shape_is_masked(line: str, value: str) -> None:
    out = mask_line(line)
    assert value not in out and MASK in out, out


def test_forced_line_masks_even_a_weak_value() -> None:
    assert mask_line('DEBUG_PW = "abcd"', force=True) == f'DEBUG_PW = "{MASK}"'
    assert mask_line("PASSWORD=abcd") == "PASSWORD=abcd"  # not known, not random: kept


def test_ordinary_code_is_left_alone() -> None:
    for code in (
        'rows = db().execute("SELECT id FROM notes WHERE owner = ?", (g.user_id,))',
        'title = "an ordinary sentence here"',
        "app.config['SECRET_KEY'] = os.environ['SECRET_KEY']",
        'headers = {"Content-Type": "application/json"}',
        # Paths and URLs are what the LLM must read to see which file or host a handler uses.
        'filename = os.path.join(dirname, "playground/A6/utility.py")',
        'url = f"https://pypi.org/pypi/{k[0]}/{k[1]}/json"',
        'url = "http://127.0.0.1:8000/2021/discussion/A9/target"',
        '@app.route("/benchmark/sqli-00/BenchmarkTest00001", methods=["POST"])',
        'path("2021/discussion/A6/api2", apis.discussion_api)',
        # Where a password comes from is code, not the password.
        '            password = request.POST["password"]',
        "password = md5(password.encode()).hexdigest()",
        'token = os.environ.get("TOKEN")',
        # An f-string's fields are code: a sink's call inside one stays readable.
        "        f'{escape_for_html(p.read_text()[:1000])}'",
        "const page = `/notes/${noteId}/revisions/${revision.slice(0, 12)}`",
    ):
        assert mask_line(code) == code


def test_a_private_key_block_is_masked_line_by_line() -> None:
    body = ["MIIEpAIBAAKCAQEA1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6", "q7r8s9t0u1v2w3x4y5z6A7B8C9D0E1F2G3"]
    lines = ['KEY = """', "-----BEGIN PRIVATE KEY-----", *body, "-----END PRIVATE KEY-----", '"""']
    out = mask_lines(lines, 10)
    assert len(out) == len(lines) and out[0] == lines[0] and out[-1] == lines[-1]
    assert not any(b in "\n".join(out) for b in body)


def test_fingerprinted_lines_mask_exactly_the_secret() -> None:
    from threatmodel.code.secret_values import fingerprint

    line = "x = {'password': 'hunter2', 'user': 'bob'}"
    out = mask_lines([line], 7, {7: frozenset({fingerprint("hunter2")})})
    assert out == [f"x = {{'password': '{MASK}', 'user': 'bob'}}"]


def test_detection_keeps_its_judgement_while_masking_is_broader() -> None:
    # Findings still come only from the strict formats and their value checks.
    assert list(find_tokens("k = sk_live_a1b2c3d4e5")) == []
    assert list(find_tokens("k = 'AKIAIOSFODNN7EXAMPLE'")) == []
    assert token_spans("k = sk_live_a1b2c3d4e5") == [(4, 22)]
    assert mask_tokens("a sk_live_a1b2c3d4e5 b AKIAQWERTYUIOPASDFGH") == f"a {MASK} b {MASK}"


def test_a_block_colon_is_not_a_mapping_key() -> None:
    # A known secret line whose literal ends an `if`: the colon closes the block, so the
    # literal is a value and is masked even without its fingerprint.
    out = mask_lines(["if user == 'bob' and password == 'reaper':"], 3, {3})
    assert "reaper" not in out[0] and "'bob'" not in out[0]
    assert mask_line("cfg['SECRET_NAME']", force=True) == f"cfg['{MASK}']"  # only literal
    assert mask_line("x = {'password': 'p4ss', 'user': 'bob'}", force=True).startswith(
        "x = {'password': "
    )
