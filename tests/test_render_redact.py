"""Secret values never reach a report, even though evidence quotes their lines."""

from __future__ import annotations

import hashlib

from render_sample import SECRET_VALUE, sample_report

from threatmodel.code.secret_values import mask_tokens
from threatmodel.redact import MASK, mask_line
from threatmodel.render import render


def fp(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def test_masks_exactly_the_literal_whose_hash_is_the_secret() -> None:
    line = "x = {'password': 'hunter2', 'user': 'bob'}"
    assert (
        mask_line(line, frozenset({fp("hunter2")}))
        == f"x = {{'password': '{MASK}', 'user': 'bob'}}"
    )


def test_without_a_hash_match_masks_values_but_keeps_keys() -> None:
    assert (
        mask_line("app.config['SECRET_KEY'] = 'abc'", force=True)
        == f"app.config['SECRET_KEY'] = '{MASK}'"
    )
    assert mask_line("TOKEN=abc123 # note", force=True) == f"TOKEN={MASK} # note"
    assert mask_line('key: "v\\"q"', force=True) == f'key: "{MASK}"'


def test_token_formats_are_masked_anywhere() -> None:
    text = "a AKIAABCDEFGHIJKLMNOP b sk_live_abcdefghijklmn c ghp_" + "a" * 36
    masked = mask_tokens(text)
    assert "AKIA" not in masked and "sk_live" not in masked and "ghp_" not in masked
    assert masked.count(MASK) == 3


def test_no_format_contains_the_secret_value() -> None:
    report = sample_report()
    for fmt in ("md", "json", "sarif"):
        assert SECRET_VALUE not in render(report, fmt), fmt
