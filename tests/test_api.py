"""The public API: every name in ``workbench.__all__`` resolves, and every ``workbench.X`` the README uses exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import workbench

ROOT = Path(__file__).resolve().parents[1]


def test_every_public_name_resolves():
    assert workbench.__all__ == ["__version__", *workbench._API]
    for name in workbench.__all__:
        value = getattr(workbench, name)
        assert value is not None, name
        if name != "__version__":
            assert getattr(value, "__name__", name) == name  # the object, not a module of that name
    assert sorted(dir(workbench)) == sorted(workbench.__all__)


def test_every_workbench_name_in_the_readme_exists():
    text = (ROOT / "README.md").read_text()
    used = set(re.findall(r"\bworkbench\.([A-Za-z_][A-Za-z0-9_]*)", text)) - {"py"}
    imported = {n.strip() for line in re.findall(r"from workbench import ([^\n]+)", text) for n in line.split(",")}
    assert used | imported, "the README should show the Python API"
    for name in sorted(used | imported):
        assert name in workbench.__all__ or hasattr(workbench, name), f"README uses workbench.{name}"


def test_importing_workbench_loads_no_heavy_module():
    code = ("import sys, workbench; heavy = {'torch', 'transformers', 'gradio', 'typer', 'numpy'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_package_says_what_it_owns():
    for init in sorted((ROOT / "workbench").glob("*/__init__.py")):
        doc = init.read_text().split('"""')
        assert len(doc) >= 3 and doc[1].strip(), f"{init.parent.name}/ needs a docstring saying what it owns"


def test_modules_stay_small_or_say_why():
    for path in sorted((ROOT / "workbench").rglob("*.py")):
        lines = path.read_text().splitlines()
        if len(lines) > 300:
            head = "\n".join(lines[:15])
            assert "Longer than" in head, f"{path.relative_to(ROOT)}: {len(lines)} lines and no reason at its top"


def test_the_readme_lists_the_public_api():
    text = " ".join((ROOT / "README.md").read_text().split())
    listed = re.search(r"The public API is `workbench.__all__`: (.+?)\.(?: |$)", text)
    assert listed, "README.md should list workbench.__all__"
    names = re.findall(r"`([A-Za-z_]+)`", listed.group(1))
    assert sorted(names) == sorted(n for n in workbench.__all__ if n != "__version__")


def _docs() -> list[Path]:
    return [ROOT / "README.md", ROOT / "prompts" / "README.md", ROOT / "benchmarks" / "intro.md",
            *sorted((ROOT / "docs").glob("*.md"))]


def test_every_module_path_the_docs_name_exists():
    for doc in _docs():
        for path in re.findall(r"\bworkbench/[a-z_/]+\.py\b", doc.read_text()):
            assert (ROOT / path).is_file(), f"{doc.name} names {path}"


def test_every_dotted_name_the_docs_use_resolves():
    """``workbench.render.batch.render_jobs`` and the like (the architecture page's table of old paths excepted)."""

    for doc in _docs():
        text = doc.read_text()
        if doc.name == "architecture.md":
            text = text.split("## Import paths that changed")[0]
        for dotted in set(re.findall(r"`(workbench(?:\.[A-Za-z_][A-Za-z0-9_]*)+)", text)):
            assert_resolves(dotted, f"{doc.name} uses {dotted}")


def assert_resolves(dotted: str, message: str) -> None:
    """``workbench.a.b.c``: the longest importable module, then each attribute in turn, must exist."""
    import importlib

    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            assert hasattr(obj, attribute), message
            obj = getattr(obj, attribute)
        return


def test_every_cross_reference_in_the_docstrings_resolves():
    """``:func:`workbench.x.y``` and the like point at code that exists (modules moved once; so can names)."""

    pattern = re.compile(r":(?:mod|func|class|meth|data|attr):`~?(workbench(?:\.[A-Za-z_][A-Za-z0-9_]*)+)`")
    for path in sorted((ROOT / "workbench").rglob("*.py")):
        for dotted in set(pattern.findall(path.read_text())):
            assert_resolves(dotted, f"{path.relative_to(ROOT)} refers to {dotted}")
