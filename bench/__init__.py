"""Benchmarks for accord's decision hot path (not part of the installed package)."""
