"""`python main.py screenshots`: every screen of a full visit, then the console's, as PNG files.

The record of exactly what a patient (and the staff around them) sees, for the trial's
equivalence file and for review. The visit is really driven through the kiosk window, on a
throw-away copy of the database (made with storage's backup): a screenshot subject is
registered on the copy with its baseline visit due today, so the given file is never changed.
Staff are signed in on the copy without their PIN (the PIN screen is shown empty).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

W = TypeVar("W", bound="QWidget")

SIZE = (1280, 800)
BASE_DPI = 96.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py screenshots",
        description="Render every screen of a full visit (every item page) to numbered PNGs.",
    )
    parser.add_argument("--db", type=Path, required=True, help="a RESPINE database (not changed)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    parser.add_argument(
        "--lang",
        default="en",
        help="the patient's language: en, fr or an installed translation (default en)",
    )
    parser.add_argument(
        "--staff-lang",
        default="en",
        help="the staff's language (the kiosk's staff screens and the console): en or fr "
        "(default en)",
    )
    parser.add_argument("--size", default=f"{SIZE[0]}x{SIZE[1]}", help="window size, WxH")
    parser.add_argument("--large-text", action="store_true", help="with the large-text style")
    parser.add_argument("--high-contrast", action="store_true", help="with high contrast")
    parser.add_argument(
        "--dpi",
        type=float,
        default=BASE_DPI,
        help="the screen's pixel density (default 96): the system scales by DPI/96 as at "
        "DPI/96 x 100 %% display scaling, so the screens are laid out (and pictured) at "
        "WxH x 96/DPI logical pixels, e.g. 1920x1200 at 150 DPI as 1229x768",
    )
    parser.add_argument(
        "--check-fit",
        action="store_true",
        help="also check every screen and exit 1 listing each one where a visible control or "
        "text is clipped or outside the visible area (not entirely inside the window and "
        "every widget holding it), a text is cut (a label shorter than its wrapped text, a "
        "button or check box narrower than its text, an option shorter than its text), the "
        "screen needs a wider or taller window than WxH, or a scroll area "
        "needs scrolling; lists and tables meant to scroll (the review list, the console's "
        "tables) may scroll, but must be fully visible themselves. Prints the smallest type "
        "the item pages' fit rule reached (ui/kiosk/item_fit.py)",
    )
    return parser


def run_screenshots(argv: list[str]) -> int:
    """The `screenshots` command; exit code 0, or 2 with one line on stderr for bad input."""
    args = build_parser().parse_args(argv)
    from respine_desktop.i18n import UI_LANGUAGES

    try:
        width, height = (int(n) for n in args.size.lower().split("x"))
    except ValueError:
        print(f"error: --size {args.size!r} is not WIDTHxHEIGHT", file=sys.stderr)
        return 2
    if not 48 <= args.dpi <= 480:
        print(f"error: --dpi {args.dpi:g}: expected 48 to 480", file=sys.stderr)
        return 2
    width, height = round(width * BASE_DPI / args.dpi), round(height * BASE_DPI / args.dpi)
    from respine_desktop.translations import LANGUAGE, activate_installed

    if args.lang not in UI_LANGUAGES and not LANGUAGE.match(args.lang):
        print(
            f"error: --lang {args.lang!r}: known {', '.join(UI_LANGUAGES)} or an installed "
            "translation's ISO 639 code",
            file=sys.stderr,
        )
        return 2
    if args.staff_lang not in UI_LANGUAGES:
        print(
            f"error: --staff-lang {args.staff_lang!r}: known {', '.join(UI_LANGUAGES)}",
            file=sys.stderr,
        )
        return 2
    from respine_desktop import storage

    try:
        source = storage.open_database(args.db, readonly=True)
    except storage.StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="respine-shots-"))
    try:
        copy = work / "copy.db"
        try:
            with source:
                storage.backup_database(source, copy)
                # An installed translation (`import translation`) is shown like the kiosk does.
                activate_installed(storage.installed_translations(source))
        except storage.StorageError as exc:
            print(f"error: {args.db}: {exc}", file=sys.stderr)
            return 2
        from respine_desktop.session import visit_languages

        languages = visit_languages(source.study.visit(source.study.visits[0].code).instruments)
        if args.lang not in languages:
            print(
                f"error: --lang {args.lang}: the visit's questionnaires exist only in "
                f"{', '.join(languages)}",
                file=sys.stderr,
            )
            return 2
        report = FitReport() if args.check_fit else None
        files = _render(copy, work, args.out, args.lang, (width, height), args, report)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"screenshots: {len(files)} PNG files in {args.out}")
    if report is None:
        return 0
    print(report.summary(f"{args.size} at {args.dpi:g} DPI ({width}x{height} logical)"))
    return 1 if report.failures else 0


class FitReport:
    """What `--check-fit` found: the failing screens and the smallest type of the item pages."""

    def __init__(self) -> None:
        self.failures: dict[str, list[str]] = {}
        self.smallest: dict[str, float] = {}
        self.screens = 0

    def add(self, name: str, problems: list[str]) -> None:
        self.screens += 1
        if problems:
            self.failures[name] = problems

    def type_size(self, role: str, points: float) -> None:
        self.smallest[role] = min(points, self.smallest.get(role, points))

    def summary(self, where: str) -> str:
        sizes = ", ".join(f"{role} {pt:.1f} pt" for role, pt in sorted(self.smallest.items()))
        lines = [f"check-fit {where}: smallest type on an item page: {sizes}"]
        for name, problems in self.failures.items():
            lines.append(f"FAIL {name}")
            lines.extend(f"  {problem}" for problem in problems)
        failed = len(self.failures)
        lines.append(f"check-fit: {self.screens - failed} of {self.screens} screens fit")
        return "\n".join(lines)


def _render(
    db_path: Path,
    work: Path,
    out: Path,
    lang: str,
    size: tuple[int, int],
    args: argparse.Namespace,
    report: FitReport | None = None,
) -> list[Path]:
    from PySide6.QtCore import QMessageLogContext, Qt, QTimer, QtMsgType, qInstallMessageHandler
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QAbstractButton, QApplication

    from respine_desktop import storage
    from respine_desktop.i18n import t
    from ui.kiosk.calibration_page import CalibrationPage
    from ui.kiosk.flow import KioskFlow
    from ui.kiosk.item_page import ItemPage
    from ui.kiosk.lock_page import LockPage
    from ui.kiosk.patient_pages import HandoverPage, LanguagePage, ReviewPage, ThanksPage
    from ui.kiosk.pin_change_page import ChangePinPage
    from ui.kiosk.settings import KioskSettings
    from ui.kiosk.staff_pages import PinPage, SettingsPage, StaffHomePage
    from ui.kiosk.visit_picker import VisitPickerPage
    from ui.kiosk.window import KioskWindow
    from ui.style import apply_style
    from ui.widgets.signals import emit

    class ManualTimer(QTimer):
        """The idle timer, fired by hand so that the countdown can be pictured."""

        def start(self, *args: object) -> None:
            pass

    def quiet(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        # The offscreen platform says this for every shown window; everything else is shown.
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(quiet)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    apply_style(app, large_text=args.large_text, high_contrast=args.high_contrast)
    subject = _screenshot_subject(db_path)
    timer = ManualTimer()
    settings = KioskSettings(
        large_text=args.large_text,
        high_contrast=args.high_contrast,
        staff_language=args.staff_lang,
    )
    kiosk = KioskFlow(
        KioskWindow(t(settings.staff_language, "common.app_name")),
        db_path,
        settings=settings,
        settings_path=work / "settings.json",
        idle_timer=timer,
    )
    window = kiosk.window
    window.resize(*size)
    window.show()
    files: list[Path] = []

    def shot(name: str) -> None:
        for _ in range(3):
            app.processEvents()
        path = out / f"{len(files) + 1:03d}-{name}.png"
        window.grab().save(str(path))
        files.append(path)
        if report is not None:
            from tools.screenshots.fit import fit_problems

            problems = fit_problems(window)
            if window.width() > size[0] or window.height() > size[1]:
                problems.insert(
                    0, f"needs {window.width()}x{window.height()}, more than the screen's {size}"
                )
            report.add(path.stem, problems)
            page = window.page()
            if isinstance(page, ItemPage):
                for role in ("question", "choice"):
                    report.type_size(role, page.fitter.point_size(role))

    def page_of(kind: type[W]) -> W:
        page = window.page()
        if not isinstance(page, kind):
            error = getattr(page, "error", None)
            detail = f": {error.text()}" if error is not None and error.isVisible() else ""
            raise RuntimeError(f"expected {kind.__name__}, on {type(page).__name__}{detail}")
        return page

    def click(button: QAbstractButton) -> None:
        button.click()

    try:
        shot("lock")
        click(page_of(LockPage).unlock_button)
        shot("staff-pin")
        pin = page_of(PinPage)
        pin.keypad.serve(pin.pin)
        pin.show_error(t(kiosk.lang, "staff.pin.locked", minutes=5))
        shot("staff-pin-digits-locked-message")
        assert kiosk.db is not None
        change = ChangePinPage(kiosk.lang, subject[1])
        window.show_page(change)
        shot("staff-change-pin")
        change.show_error(t(kiosk.lang, "staff.change_pin.weak"))
        change.keypad.serve(change.new)
        shot("staff-change-pin-refused")
        kiosk.staff = storage.get_staff(kiosk.db, subject[1])
        kiosk.show_staff_home()
        shot("staff-home")
        click(page_of(StaffHomePage).buttons["settings"])
        shot("staff-settings")
        click(page_of(SettingsPage).calibrate_button)
        shot("staff-calibration")
        emit(page_of(CalibrationPage).cancelled)
        emit(page_of(SettingsPage).cancelled)
        click(page_of(StaffHomePage).buttons["start"])
        picker = page_of(VisitPickerPage)
        picker.search.setText(subject[0])
        picker.subjects.setCurrentRow(0)
        shot("staff-choose-visit")
        click(picker.keyboard_button)
        shot("staff-choose-visit-keyboard")
        click(picker.keyboard_button)
        click(picker.hand_over_button)
        shot("hand-over")
        click(page_of(HandoverPage).start_button)
        if isinstance(window.page(), LanguagePage):
            shot("language")
            click(page_of(LanguagePage).buttons[lang])
        n = 0
        while isinstance(window.page(), ItemPage):
            page = page_of(ItemPage)
            n += 1
            item = page.step.item
            shot(f"item-{n:02d}-{item.id}")
            if item.type == "vas" and page.vas is not None:
                QTest.mouseClick(page.vas, Qt.MouseButton.LeftButton, pos=page.vas.point_for(0.62))
                shot(f"item-{n:02d}-{item.id}-marked")
            elif item.optional:
                click(page.skip_button)
                shot(f"item-{n:02d}-{item.id}-skip-confirm")
                click(page.skip_no)
                assert page.choices is not None
                click(page.choices.buttons[len(page.choices.buttons) // 2])
            else:
                assert page.choices is not None
                click(page.choices.buttons[(n * 7) % len(page.choices.buttons)])
            if n == 2:
                shot(f"item-{n:02d}-{item.id}-answered")
                for _ in range(kiosk.idle.timeout_s - kiosk.idle.warning_s + 5):
                    emit(timer.timeout)
                shot("idle-countdown")
                click(kiosk.countdown.stay_button)
            click(page.next_button)
        review = page_of(ReviewPage)
        shot("review")
        click(review.change_buttons[1])
        shot("review-change-item")
        click(page_of(ItemPage).next_button)
        review = page_of(ReviewPage)
        if review.scroll_area is not None:
            bar = review.scroll_area.verticalScrollBar()
            bar.setValue(bar.maximum())
        shot("review-end")
        click(review.submit_button)
        shot("review-confirm")
        click(review.confirm_yes)
        shot("thank-you")
        click(page_of(ThanksPage).done_button)
        page_of(LockPage)
        shot("locked-again")
        from tools.screenshots.console import shoot_console

        shoot_console(kiosk, shot, subject[0])
    finally:
        kiosk.release()
    return files


def _screenshot_subject(db_path: Path) -> tuple[str, str]:
    """Register a new subject on the copy, due for baseline today: (code, admin username)."""
    from respine_desktop import storage

    with storage.open_database(db_path) as db:
        admin = next(s for s in storage.list_staff(db) if s.role == "admin" and s.active)
        taken = {s.code for s in storage.list_subjects(db)}
        number = 900
        while storage.subject_code(db.site_code, number) in taken:
            number += 1
        code = storage.subject_code(db.site_code, number)
        storage.register_subject(db, code, day0=date.today(), staff=admin)
        return code, admin.username
