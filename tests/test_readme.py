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


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.+?)\n```", (ROOT / "README.md").read_text(), flags=re.S)


def _check_claims(block: str, namespace: dict) -> int:
    """Lines written ``expression  # literal`` must evaluate to the literal: the README's stated results."""
    import ast

    checked = 0
    for line in block.splitlines():
        code, _, comment = line.partition("  # ")
        try:
            expected = ast.literal_eval(comment.strip())
        except (ValueError, SyntaxError):
            continue
        assert eval(code.strip(), namespace) == expected, line  # noqa: S307 - the README's own code
        checked += 1
    return checked


def test_readme_python_blocks_exist():
    blocks = _python_blocks()
    assert len(blocks) == 2 and any("gradio_client" in b for b in blocks)


def test_readme_library_example_runs_with_tiny(tmp_path, monkeypatch):
    """The Python example exactly as written, with the offline ``tiny`` model instead of ``small``, on the first
    two entries of the prompt file it names (the code path is the same for two entries as for twelve)."""
    [block] = [b for b in _python_blocks() if "gradio_client" not in b]
    assert 'load_engine("small")' in block and "prompts/synthwave.toml" in block
    head, *entries = (ROOT / "prompts" / "synthwave.toml").read_text().split("\n[[prompt]]\n")
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "synthwave.toml").write_text("\n[[prompt]]\n".join([head, *entries[:2]]))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block.replace('load_engine("small")', 'load_engine("tiny")'), "README.md", "exec"), namespace)  # noqa: S102
    assert _check_claims(block, namespace) >= 1
    result = namespace["result"]
    assert result.ok and len(result.done) == 2
    assert all(item.path.is_file() and item.sidecar.is_file() for item in result.done)


def test_readme_api_example_runs_against_a_live_app(live_app):
    """The gradio_client example exactly as written, against the run's live app (``--model tiny``)."""
    [block] = [b for b in _python_blocks() if "gradio_client" in b]
    namespace: dict = {}
    code = block.replace("http://127.0.0.1:7860/", live_app.url)
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["take"]["codes_sha256"] and len(namespace["takes"]) == 4
