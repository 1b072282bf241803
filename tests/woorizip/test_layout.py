"""The repository layout keeps the standard library's `platform` module reachable."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_stdlib_platform_module_is_not_shadowed() -> None:
    import platform

    assert platform.system()
    assert Path(platform.__file__).parent == Path(__import__("os").__file__).parent


def test_platform_dir_is_not_a_package() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_repo_root_on_sys_path_still_gives_stdlib_platform() -> None:
    # `python -c` puts the current directory first on sys.path: the worst case for shadowing.
    code = "import platform, uuid, pandas; print(platform.system(), uuid.uuid4().version)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [platform_system(), "4"]


def platform_system() -> str:
    import platform

    return platform.system()


def test_top_level_layout_matches_the_owner_card() -> None:
    for name in ("platform", "recsys", "pipelines", "notebooks", "models", "tests", "pyproject.toml", "README.md"):
        assert (ROOT / name).exists(), name
