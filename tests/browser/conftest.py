"""The browser suite: one headless Chromium for the session, sites built once per module."""

from __future__ import annotations

from tests.support.browser import browser

__all__ = ["browser"]
