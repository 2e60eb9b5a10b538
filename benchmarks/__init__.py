"""Benchmarks anyone can re-run: `python -m benchmarks run [NAME ...] [--quick]`."""
