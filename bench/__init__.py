"""Benchmarks: ingest and download against the local stack's parts, each with its baseline."""
