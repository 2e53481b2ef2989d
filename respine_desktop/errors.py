"""RespineError: the one base of every error a user may see, its message one line."""

from __future__ import annotations


class RespineError(Exception):
    """Bad input, a refused action or a file that cannot be used: one line naming what and where.

    Every package's own error root derives from it (`StorageError`, `ExportError`,
    `InstrumentError`, `StudyConfigError`, `ReportOutputError`, `ArmsFileError`, the CLI's
    `UsageError`), so a caller that shows errors to a person catches this one class: the CLI prints
    the message and exits 2, the console shows it in its status line. Errors that mean a bug in
    the calling code (`session.FlowError`, a missing UI text `i18n.TextError`) are deliberately not
    RespineErrors: they must reach a traceback, not a polite line.
    """

    def __str__(self) -> str:
        # One line, whatever a wrapped message (an OS error, a parser's text) brought with it.
        return " ".join(super().__str__().split())
