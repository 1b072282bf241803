"""Prefect flows: ingest, train, register, promote, batch scoring (one file per flow)."""
