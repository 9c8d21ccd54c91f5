"""Benchmarks of mgdl-convex; each script writes long-format CSV rows and prints a table."""
