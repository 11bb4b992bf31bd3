"""The docs stay true of the tests they cite: every test a README or docs/ page names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "prompts" / "README.md"]


def defined_tests() -> dict[str, set[str]]:
    """Test file name -> the test functions it defines."""
    return {path.name: set(re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.M))
            for path in (ROOT / "tests").glob("test_*.py")}


def test_every_test_the_docs_cite_exists():
    tests = defined_tests()
    everywhere = set().union(*tests.values())
    missing = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for file, name in re.findall(r"(test_\w+\.py)::(test_\w+)", text):
            if file not in tests or name not in tests[file]:
                missing.append(f"{page.relative_to(ROOT)}: {file}::{name}")
        for file in set(re.findall(r"tests/(test_\w+\.py)", text)):
            if file not in tests:
                missing.append(f"{page.relative_to(ROOT)}: tests/{file}")
        cited = set(re.findall(r"(?<![\w/.:])(test_\w+)(?![\w.])", text)) - set(tests) - {f[:-3] for f in tests}
        missing += [f"{page.relative_to(ROOT)}: {name}" for name in sorted(cited - everywhere)]
    assert not missing, "the docs cite tests that do not exist:\n" + "\n".join(missing)
