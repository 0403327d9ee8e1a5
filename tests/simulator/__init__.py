"""Tests for the printer simulator."""
