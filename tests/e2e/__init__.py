"""End-to-end tests: the demo stack (scripts/develop) as real processes, driven by Chromium."""
