"""Benchmarks of the crisis console (run them as scripts; see bench/README.md)."""
