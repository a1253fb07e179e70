"""Tiny random-weight checkpoint builders for the test suite."""
