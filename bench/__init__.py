"""Benchmarks with baselines measured in the same run (docs/ARCHITECTURE.md#benchmarks); run as modules."""
