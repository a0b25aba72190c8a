"""Benchmarks that drive the real deepfim server (see benchmarks/README.md)."""
