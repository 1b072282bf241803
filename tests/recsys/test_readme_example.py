"""The README's notebook example runs as written (so the documented workflow cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.slow
def test_notebook_example_runs() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- notebook-example -->\s*```python\n(.*?)```", text, re.S)
    assert block, "the README lost its notebook example"
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), "README.md", "exec"), namespace)
    result = namespace["result"]
    assert "Targets:" in result.to_text()  # type: ignore[attr-defined]
    assert len(namespace["events"]) > 1000  # type: ignore[arg-type]
