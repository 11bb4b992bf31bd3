"""The README's front door stays true: its test command is the one CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands(text: str) -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", text, flags=re.S)


def test_ci_runs_the_readme_test_command():
    readme = _commands((ROOT / "README.md").read_text())
    test_command = next(c for c in readme if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def test_readme_render_command_uses_the_offline_model_and_says_so():
    text = (ROOT / "README.md").read_text()
    first = _commands(text)[0]
    assert "--model tiny" in first and "workbench generate" in first and "pip install" in first
    assert "untrained" in text and "--model small" in text
