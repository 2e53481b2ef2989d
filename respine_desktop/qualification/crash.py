"""OQ: a writer killed mid-visit loses nothing: the visit resumes where it stopped.

A child process (this program, started through `multiprocessing` so that a frozen build starts
itself) answers the visit item by item and reports each committed answer through a pipe; after
`KILL_AFTER` answers the parent kills it (SIGKILL on POSIX, TerminateProcess on Windows: no
clean-up runs), then reopens the database, checks every reported answer is there, resumes the
session at the next item, finishes and submits it, and verifies the file.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

from respine_desktop import storage
from respine_desktop.qualification import visit
from respine_desktop.qualification.check import Check

KILL_AFTER = 12
TIMEOUT_S = 120


def _writer(path: str, pipe: Connection) -> None:
    """The child: answers until killed, sending each committed answer's item id."""
    from respine_desktop.session import Phase, QuestionnaireSession

    with storage.open_database(Path(path)) as db:
        admin = storage.get_staff(db, "admin")
        flow = QuestionnaireSession.open(db, visit.SUBJECT, visit.VISIT, staff=admin)
        flow.choose_language("en")
        n = 0
        while flow.phase is Phase.ITEMS:
            item = flow.current.item
            value = visit.answer_for(item.id, item.type, item.codes, n)
            flow.answer(value, vas_line_mm=100.0 if item.type == "vas" else None)
            pipe.send(item.id)  # after the commit: the parent may kill from here on
            flow.next()
            n += 1
        pipe.recv()  # never reached before the kill (more items than KILL_AFTER)


def killed_writer(workdir: Path) -> Iterator[Check]:
    path = workdir / "crash.db"
    with visit.new_database(path):
        pass
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_writer, args=(str(path), child), daemon=True)
    process.start()
    committed: list[str] = []
    while len(committed) < KILL_AFTER and parent.poll(TIMEOUT_S):
        committed.append(parent.recv())
    process.kill()
    process.join(TIMEOUT_S)
    with storage.open_database(path) as db:
        session = storage.open_session_for(db, visit.SUBJECT, visit.VISIT)
        kept = set(storage.current_answers(db, session.id)) if session else set()
        lost = [item for item in committed if item not in kept]
        yield Check(
            "DB-05",
            f"A writer killed after {KILL_AFTER} answers loses none of them",
            f"{KILL_AFTER} answers committed and kept, the session open",
            f"killed with exit code {process.exitcode}; {len(committed)} committed, "
            f"{len(committed) - len(lost)} kept" + (f", lost {lost}" if lost else ""),
            len(committed) == KILL_AFTER and not lost and session is not None,
        )
        given = visit.answer_visit(db)
        counts = storage.counts(db)
    result = storage.verify_database(path)
    yield Check(
        "DB-06",
        "The interrupted visit resumes at the next item, is completed and verifies",
        "the other items answered after resuming, 1 submitted session, the file verifies",
        f"{len(given)} items answered after resuming, {counts.sessions.completed} submitted; "
        f"{result.message}",
        len(given) + KILL_AFTER == counts.answers and counts.sessions.completed == 1 and result.ok,
    )
