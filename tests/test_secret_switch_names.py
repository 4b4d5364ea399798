"""A setting that names a choice or a switch about a secret holds no secret.

``SECRET_PROVIDER == "vault-secret"`` picks where secrets come from (its last word says a
provider is named, as ``..._BACKEND`` does); ``VITE_..._USE_ID_TOKEN`` says whether to use a
token, and a bundler inlining that flag ships no credential. Names that hold secrets stay.
"""

from __future__ import annotations

import pytest

from threatmodel.code.names import is_secret_name, is_switch_name
from threatmodel.code.source import SourceFile
from threatmodel.collect.secrets import SecretsCollector
from threatmodel.rules.client_exposed_secret import looks_secret


@pytest.mark.parametrize(
    "name", ["SECRET_PROVIDER", "TOKEN_PROVIDER", "USE_ID_TOKEN", "ENABLE_API_KEY"]
)
def test_a_choice_or_a_switch_is_no_secret_name(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", ["SECRET_KEY", "API_TOKEN", "DB_PASSWORD", "USER_TOKEN"])
def test_secret_names_stay(name: str) -> None:
    assert is_secret_name(name)
    assert not is_switch_name(name)


def test_a_browser_flag_about_a_token_is_not_a_shipped_secret() -> None:
    assert not looks_secret("VITE_APP_AUTH_PROVIDER_USE_ID_TOKEN")
    assert looks_secret("VITE_APP_AUTH_PROVIDER_ID_TOKEN")


CONFIG = """
import os

SECRET_PROVIDER = os.environ.get("SECRET_PROVIDER")
if SECRET_PROVIDER == "vault-secret":
    pass
elif SECRET_PROVIDER == "cloud-kms-secret":
    pass
SIGNING_SECRET = "q8Zt3vR1xLw9Pk2mN7bC4yHd"
"""


def test_comparing_a_provider_choice_to_its_names_is_no_hardcoded_secret() -> None:
    got = SecretsCollector().extract(SourceFile.from_bytes("config.py", CONFIG.encode()))
    text = str(got)
    assert "SECRET_PROVIDER" not in text
    assert "SIGNING_SECRET" in text
