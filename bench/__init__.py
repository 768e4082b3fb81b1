"""Benchmarks with baselines measured in the same run (DESIGN §10); run as modules."""
