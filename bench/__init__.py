"""Benchmarks (not tests): each prints a table against a peer or a baseline measured in the same run."""
