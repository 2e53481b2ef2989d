"""Errors of the exports: a one-line message naming what is wrong and where."""

from __future__ import annotations

from respine_desktop.errors import RespineError


class ExportError(RespineError):
    """An export could not be written (bad output path, unreadable database ...)."""


class BundleError(ExportError):
    """A bundle was refused: tampered, truncated, foreign, unsigned ... (nothing was written)."""
