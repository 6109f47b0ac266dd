"""Fixtures of the browser tests in tests/book: one site build per run, served on 127.0.0.1, one Chromium."""
from _site import browser, html_dir, screenshots, server, site  # noqa: F401  (pytest fixtures)
