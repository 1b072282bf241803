"""우리집 app shell: API, worker, CLI and the adapters to the backing services."""

__version__ = "0.1.0"
