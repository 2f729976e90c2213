"""Benchmark and load tools, outside the product package: `python -m tests.bench` is the benchmark (`make bench`)."""
