"""Headless Chromium for the browser tests (tests/book/test_site.py, tests/book/test_jupyterlab.py).

The tests drive Debian's ``chromium`` (``apt-get install chromium``) through Playwright's Python
API; they never download a browser (never run ``playwright install``). Without chromium the
browser tests are skipped with a message saying how to install it, but only when the
environment variable ``CI`` is unset: under CI (``CI=true``, as in ``.ci/run``) they fail.
"""
import contextlib
import os
import shutil
from urllib.parse import urlsplit

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1"}


def require_chromium():
    """Return the path of the system chromium; skip (``CI`` unset) or fail (``CI`` set) without it."""
    missing = []
    executable = shutil.which("chromium")
    if executable is None:
        missing.append("Debian's chromium, which is not installed: apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright: pip install -r requirements.txt")
    if missing:
        message = ("browser test needs " + "; and ".join(missing)
                   + " (the tests use the system chromium; never run `playwright install`)")
        if "CI" in os.environ:
            pytest.fail(message + ". CI is set, so this is a failure, not a skip.", pytrace=False)
        pytest.skip(message)
    return executable


@contextlib.contextmanager
def chromium(user_data_dir, **context_options):
    """A fresh persistent Chromium context (its own ``--user-data-dir``) with the book's launch flags.

    Every request to a host other than 127.0.0.1 is recorded in ``context.off_host`` and aborted.
    """
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(user_data_dir), executable_path=executable, headless=True, args=FLAGS, **context_options)
        context.off_host = []

        def block(route):
            context.off_host.append(route.request.url)
            route.abort()

        context.route(lambda url: not is_local(url), block)
        try:
            yield context
        finally:
            context.close()


def is_local(url):
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-error"):
        return True
    return parts.hostname in LOCAL_HOSTS


class PageLog:
    """What one page reported: console errors, uncaught exceptions, failed and off-host requests."""

    def __init__(self, page):
        self.console_errors, self.page_errors, self.failed, self.off_host = [], [], [], []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("request", self._request)
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, msg):
        if msg.type == "error":
            location = msg.location or {}
            self.console_errors.append(f"{msg.text} [{location.get('url', '')}:{location.get('lineNumber', '')}]")

    def _request(self, request):
        if not is_local(request.url):
            self.off_host.append(request.url)

    def _failed(self, request):
        if is_local(request.url):  # off-host requests are aborted on purpose and reported as such
            self.failed.append(f"{request.url} ({request.failure})")

    def _response(self, response):
        if response.status >= 400:
            self.failed.append(f"{response.url} (HTTP {response.status})")

    def problems(self):
        out = [f"console error: {e}" for e in self.console_errors]
        out += [f"uncaught script error: {e}" for e in self.page_errors]
        out += [f"request to another host: {u}" for u in self.off_host]
        out += [f"failed request: {u}" for u in self.failed]
        return out
