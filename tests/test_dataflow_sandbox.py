"""Templates compiled by a sandboxed Jinja environment are no template injection; the same
call on a plain ``Environment`` is (``dataflow/sandbox.py``)."""

from __future__ import annotations

from tests.test_dataflow import handler, proven, run

ENV = (
    "from jinja2.sandbox import SandboxedEnvironment\n"
    "from jinja2 import Environment\n"
    "class LabelEnvironment(SandboxedEnvironment):\n"
    "    pass\n"
    "label_env = LabelEnvironment(autoescape=False)\n"
    "plain_env = Environment()\n"
)


def _render(env: str) -> str:
    # the module names jinja2 (its errors), as a module rendering templates does
    return f"import jinja2\nfrom templating.envs import {env}\n" + handler(
        f"return {env}.from_string(request.form['tpl']).render()\n"
    )


def test_a_sandboxed_subclass_in_another_module_is_safe() -> None:
    flows = run(_render("label_env"), {"templating/envs.py": ENV})
    assert "template_injection" not in proven(flows)
    safe = [f for f in flows if f.claim == "template_injection"]
    assert safe and all(f.source_kind == "safe_call" for f in safe)


def test_through_a_helper_too() -> None:
    helper = ENV + "def render_label(text):\n    return label_env.from_string(text).render()\n"
    body = "from templating.envs import render_label\n" + handler(
        "return render_label(request.form['tpl'])\n"
    )
    assert "template_injection" not in proven(run(body, {"templating/envs.py": helper}))


def test_a_plain_environment_is_still_injection() -> None:
    flows = run(_render("plain_env"), {"templating/envs.py": ENV})
    assert "template_injection" in proven(flows)
