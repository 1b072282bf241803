#!/usr/bin/env python3
"""Set-up and run in one command, on a fresh machine with nothing but Python 3.11.

    python3 dev.py demo    create .venv if needed, install, run the main job (`woorizip demo`)
    python3 dev.py test    create .venv if needed, install, run lint, type and structure checks and the tests
    python3 dev.py lock    re-pin constraints.txt from the current .venv (after changing dependencies)

Extra arguments after the command are passed on (to `woorizip demo` or to pytest).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".installed"
INSTALL_INPUTS = ("pyproject.toml", "constraints.txt")


def _python311() -> str:
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if not found:
        sys.exit("Python 3.11 is required (python3.11 not found on PATH)")
    return found


def _run(*command: str | Path, **kwargs: object) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def ensure_environment() -> None:
    """Create .venv and install the project with pinned versions; skipped when nothing changed."""
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in INSTALL_INPUTS)).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest and (BIN / "woorizip").exists():
        return
    if not (BIN / "python").exists():
        _run(_python311(), "-m", "venv", VENV)
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip==26.3")
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", ".[dev]")
    STAMP.write_text(digest)


def demo(args: list[str]) -> int:
    ensure_environment()
    return subprocess.call([str(BIN / "woorizip"), "demo", *args], cwd=ROOT)


def test(args: list[str]) -> int:
    ensure_environment()
    env = dict(os.environ)
    checks: list[list[str]] = [
        [str(BIN / "ruff"), "check", "platform", "recsys", "pipelines", "tests", "benchmarks", "dev.py"],
        [str(BIN / "mypy"), "platform/woorizip", "recsys", "pipelines"],
        [str(BIN / "lint-imports")],
    ]
    for check in checks:
        print("+", " ".join(Path(check[0]).name if i == 0 else part for i, part in enumerate(check)), flush=True)
        if subprocess.call(check, cwd=ROOT, env=env) != 0:
            return 1
    return subprocess.call([str(BIN / "pytest"), *args], cwd=ROOT, env=env)


def lock(_args: list[str]) -> int:
    frozen = subprocess.run(
        [str(BIN / "python"), "-m", "pip", "freeze", "--exclude-editable"], check=True, capture_output=True, text=True
    ).stdout
    (ROOT / "constraints.txt").write_text(
        "# Exact versions of every package, direct and transitive: `python3 dev.py lock` rewrites this.\n" + frozen
    )
    return 0


COMMANDS = {"demo": demo, "test": test, "lock": lock}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
