"""Benchmarks: our tap, target and core against the peer clients, on the sandbox portal's virtual clock."""
