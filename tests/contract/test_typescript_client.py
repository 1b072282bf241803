"""A mobile team can generate a typed client from the OpenAPI document, and it works against the real server.

tests/contract/client is a small npm project pinned by its lockfile. The test generates `src/api.d.ts` from the
app's current document with openapi-typescript, type-checks `src/flow.ts` with tsc (strict), compiles it and runs
it with node against the app served over loopback HTTP. The flow signs up, creates and lists families (following
`next_cursor`), invites, previews and accepts, and reads refused requests as typed problems; a `case` for a status
an operation does not declare, or a problem type the enum lacks, does not compile.

Locally the test is skipped when node or npm is missing; under CI=true it fails instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.woorizip.conftest import SettingsFactory
from tests.woorizip.family_client import running_api, settings_for
from woorizip.app import create_app
from woorizip.settings import Settings

CLIENT = Path(__file__).resolve().parent / "client"
BIN = CLIENT / "node_modules" / ".bin"
GENERATED = CLIENT / "src" / "api.d.ts"
# The document's `required` lists are the truth: a property with a default is optional unless listed, so request
# bodies such as FamilyCreate (timezone, question_time) need not repeat the server's defaults.
GENERATOR_OPTIONS = ["--default-non-nullable", "false"]


def _missing_tools() -> str | None:
    missing = [name for name in ("node", "npm") if shutil.which(name) is None]
    if not missing:
        return None
    return f"{' and '.join(missing)} not found on PATH: the TypeScript client contract needs Node.js 20+ and npm"


# Skipped before any server starts; under CI=true the test runs and fails on the missing tools instead.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not IN_CI and _missing_tools() is not None, reason=str(_missing_tools())),
]


def _tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = _missing_tools()
        if IN_CI:
            pytest.fail(f"{message} (CI=true requires it)")
        pytest.skip(str(message))
    return node, npm


def _run(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0", "npm_config_update_notifier": "false"}
    return subprocess.run(command, cwd=CLIENT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


def _install(npm: str) -> None:
    """`npm ci` when node_modules is missing or older than package-lock.json; a no-op on reruns."""
    installed = CLIENT / "node_modules" / ".package-lock.json"  # npm writes it on every install
    lockfile = CLIENT / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lockfile.stat().st_mtime and (BIN / "tsc").exists():
        return
    result = _run([npm, "ci", "--no-audit", "--no-fund"], timeout=600)
    assert result.returncode == 0, f"npm ci failed in {CLIENT}\n{_output(result)}"


def _generate(node: str, tmp_path: Path) -> None:
    document = create_app(Settings(_env_file=None)).openapi()
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    generator = CLIENT / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
    result = _run([node, str(generator), str(spec), "-o", str(GENERATED), *GENERATOR_OPTIONS], timeout=120)
    assert result.returncode == 0, f"openapi-typescript failed\n{_output(result)}"
    assert "export interface paths" in GENERATED.read_text(encoding="utf-8"), "openapi-typescript wrote no paths"


def test_a_typed_client_generated_from_the_document_compiles_strictly_and_runs_the_flow(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    node, npm = _tools()
    _install(npm)
    _generate(node, tmp_path)
    tsc = [node, str(CLIENT / "node_modules" / "typescript" / "bin" / "tsc"), "-p", str(CLIENT), "--pretty", "false"]

    checked = _run([*tsc, "--noEmit"], timeout=180)
    errors = [line for line in checked.stdout.splitlines() if "error TS" in line]
    clean = checked.returncode == 0 and not errors
    assert clean, (
        f"tsc --noEmit (strict) found {len(errors)} error(s) in the client typed from the document\n{_output(checked)}"
    )

    # Checked just above; emitting without checking again keeps reruns quick.
    shutil.rmtree(CLIENT / "dist", ignore_errors=True)
    built = _run([*tsc, "--noCheck"], timeout=180)
    emitted = built.returncode == 0 and (CLIENT / "dist" / "flow.js").exists()
    assert emitted, f"tsc could not emit\n{_output(built)}"

    with running_api(settings_for(make_settings)) as api:
        flow = _run([node, str(CLIENT / "dist" / "flow.js"), api.base], timeout=120)
    print(flow.stdout)
    succeeded = flow.returncode == 0
    assert succeeded, f"the compiled flow failed against the served app\n{_output(flow)}"
    assert flow.stdout.rstrip().endswith("flow: ok"), _output(flow)
