"""RespineError: the one base of every error a user may see, its message one line."""

from __future__ import annotations

from typing import Self


class RespineError(Exception):
    """Bad input, a refused action or a file that cannot be used: one line naming what and where.

    Every package's own error root derives from it (`StorageError`, `ExportError`,
    `InstrumentError`, `StudyConfigError`, `ReportOutputError`, `ArmsFileError`, the CLI's
    `UsageError`), so a caller that shows errors to a person catches this one class: the CLI prints
    the message and exits 2, the console shows it in its status line. Errors that mean a bug in
    the calling code (`session.FlowError`, a missing UI text `i18n.TextError`) are deliberately not
    RespineErrors: they must reach a traceback, not a polite line.

    An error staff may meet in the program's screens (a PIN the policy refuses, a subject code of
    the wrong form) names its text in the UI catalogs (`keyed`: ``common.error.<key>``, with the
    values it shows; a phrase like the messages, without a capital or a final full stop, for the
    screens' sentences to hold): the screens say it in their language (`i18n.error_text`), the
    command line prints the English message. (The key is not pickled: an error sent from another
    process is shown by its message.)
    """

    key: str | None = None
    params: dict[str, object] | None = None

    def keyed(self, key: str, **params: object) -> Self:
        """This error, naming its UI text ``common.error.<key>`` filled with `params`."""
        self.key, self.params = key, params
        return self

    def __str__(self) -> str:
        # One line, whatever a wrapped message (an OS error, a parser's text) brought with it.
        return " ".join(super().__str__().split())
