"""Tests for the bambu_printer integration."""
