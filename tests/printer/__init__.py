"""Tests of the protocol library (no Home Assistant)."""
