"""The notebooks run top to bottom on a small simulated snapshot, and are committed without outputs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

import recsys
from recsys.analysis import DATA_VARIABLE, SIMULATE_COMMAND
from recsys.events import read_dataset, write_dataset
from recsys.features.build import FEATURE_NAMES
from recsys.ranking.training import RankerParams, fit_ranker, replay
from recsys.registry import ModelRegistry
from recsys.simulate.history import simulate_history

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = ("1.0-explore-engagement.ipynb", "2.0-evaluate-ranker.ipynb", "3.0-off-policy-evaluation.ipynb")
KERNEL = "python3"
TIMEOUT = 300  # seconds per cell


@pytest.fixture(scope="session")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150 families x 45 days: every notebook's tables have data, in seconds."""
    folder = tmp_path_factory.mktemp("notebook-data")
    write_dataset(simulate_history(n_families=150, days=45, seed=3).dataset, folder)
    return folder


@pytest.fixture(scope="session")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `python3` kernelspec that runs this very interpreter.

    Whatever kernelspecs the machine or the user has installed, the kernel then imports the same
    (editable) recsys as the tests do.
    """
    folder = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(folder / KERNEL)
    return folder


def _execute(
    notebook: nbformat.NotebookNode, *, kernels: Path, data: Path, extra_env: dict[str, str] | None = None
) -> nbformat.NotebookNode:
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    client = NotebookClient(
        notebook, km=manager, kernel_name=KERNEL, timeout=TIMEOUT, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    env = {
        **os.environ,
        # The autouse fixture stripped WOORIZIP_* from this process; the kernel gets the one it needs.
        DATA_VARIABLE: str(data),
        # LightGBM's OpenMP threads spin while waiting: with another process on one of two cores, the
        # off-policy notebook took 10x longer (21 s instead of 2 s for one cell); passive waiting keeps it ~3x.
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
        **(extra_env or {}),
    }
    client.execute(cleanup_kc=True, env=env)
    return notebook


def _outputs(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


@pytest.mark.slow
def test_the_kernel_runs_this_interpreter_and_sees_the_data(kernels: Path, snapshot: Path) -> None:
    probe = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                f"import os, sys, recsys\nprint(sys.prefix, recsys.__file__, os.environ[{DATA_VARIABLE!r}], "
                "os.getcwd(), sep='\\n')"
            )
        ]
    )
    printed = "".join(output.get("text", "") for output in _outputs(_execute(probe, kernels=kernels, data=snapshot)))
    assert printed.splitlines() == [sys.prefix, recsys.__file__, str(snapshot), str(NOTEBOOKS)]


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_without_error(name: str, kernels: Path, snapshot: Path) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    executed = _execute(notebook, kernels=kernels, data=snapshot)  # a failing cell raises CellExecutionError
    outputs = _outputs(executed)
    assert not [output for output in outputs if output.output_type == "error"]
    # Figures are recsys.analysis Figures shown as the last expression: they must arrive as images.
    assert any("image/png" in output.get("data", {}) for output in outputs)


@pytest.mark.slow
def test_the_ranker_notebook_reads_champion_and_challenger_from_the_registry(
    kernels: Path, snapshot: Path, tmp_path: Path
) -> None:
    dataset = read_dataset(snapshot)
    rows, _ = replay(dataset)
    registry = ModelRegistry(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_location=tmp_path / "mlruns")
    for trees in (40, 10):  # version 1, then version 2 (the challenger)
        model = fit_ranker(rows, params=RankerParams(n_estimators=trees))
        registry.log_candidate(
            scorer=model, params={"trees": trees}, metrics={}, tags={}, evaluation={}, model_card="# card",
            input_example=pd.DataFrame(rows.features[:3], columns=FEATURE_NAMES),
        )  # fmt: skip
    registry.promote("1")
    notebook = nbformat.read(NOTEBOOKS / "2.0-evaluate-ranker.ipynb", as_version=4)
    executed = _execute(
        notebook, kernels=kernels, data=snapshot, extra_env={"WOORIZIP_MLFLOW_TRACKING_URI": registry.tracking_uri}
    )
    printed = "".join(output.get("text", "") for output in _outputs(executed))
    assert "models from the registry: {'champion': 'version 1', 'challenger': 'version 2'}" in printed


def test_a_missing_dataset_folder_says_how_to_make_one() -> None:
    from recsys.analysis import resolve_data_folder

    with pytest.raises(FileNotFoundError, match=SIMULATE_COMMAND):
        resolve_data_folder({DATA_VARIABLE: "/nonexistent/notebook-data"}, default=Path("unused"))


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda path: path.name)
def test_committed_notebooks_have_no_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == KERNEL
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ") and SIMULATE_COMMAND in first.source
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has outputs: clear them before committing"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"


def test_every_notebook_is_there() -> None:
    assert set(EXPECTED) <= {path.name for path in NOTEBOOKS.glob("*.ipynb")}
