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


PACKAGE = ROOT / "platform" / "woorizip"
DOMAIN_SHAPE = ("router.py", "schemas.py", "models.py", "service.py", "dependencies.py", "errors.py")
# Folders of the app shell that are adapters to backing services, not domains.
ADAPTERS = {"db", "content", "cache", "storage", "queue"}


def test_every_domain_with_routes_has_the_same_shape() -> None:
    domains = [path.parent for path in PACKAGE.rglob("router.py")]
    assert {d.relative_to(PACKAGE).as_posix() for d in domains} >= {"auth", "auth/social", "family", "recommender"}
    for domain in domains:
        missing = [name for name in DOMAIN_SHAPE if not (domain / name).is_file()]
        assert not missing, f"{domain.relative_to(PACKAGE)} lacks {missing}"


def test_problems_are_named_in_errors_modules_never_spelled_inline() -> None:
    import re

    inline = re.compile(r"ProblemType\(|slug=")
    for path in PACKAGE.rglob("*.py"):
        if path.name in ("errors.py", "problems.py"):
            continue
        assert not inline.search(path.read_text(encoding="utf-8")), f"{path.relative_to(ROOT)} declares a problem"


def test_domains_meet_only_through_service_and_dependencies_modules() -> None:
    """A domain may use another domain's `service` (its verbs) or `dependencies` (e.g. CurrentUser), nothing else."""
    import grimp

    graph = grimp.build_graph("woorizip")
    domains = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()
                     and p.name not in ADAPTERS and p.name != "__pycache__")  # fmt: skip
    offenders = []
    for importer in graph.modules:
        parts = importer.split(".")
        if len(parts) < 2 or parts[1] not in domains:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            target = imported.split(".")
            elsewhere = len(target) >= 3 and target[1] in domains and target[1] != parts[1]
            if elsewhere and target[-1] not in ("service", "dependencies", "schemas"):
                offenders.append(f"{importer} -> {imported}")
    assert not offenders, offenders
