"""StaffAdminView: the administrator's staff accounts: list, create, disable or enable, reset a PIN.

Storage enforces the rules (admin only, PIN format, no disabling one's own account) and audits
every change; this view shows the accounts and says what storage answered.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.storage import ROLES, Staff, StorageError, StudyDb
from ui.console.texts import refused, role_text
from ui.widgets.fields import line_edit
from ui.widgets.page import button, label, say
from ui.widgets.touch_scroll import touch_scroll

USERNAME_ROLE = Qt.ItemDataRole.UserRole


class StaffAdminView(QWidget):
    """Accounts table; a create form; actions on the chosen account."""

    def __init__(self, db: StudyDb, staff: Staff, lang: str) -> None:
        super().__init__()
        self.db, self.staff, self.lang = db, staff, lang
        column = QVBoxLayout(self)
        self.table = QTableWidget(0, 3)
        self.table.setAccessibleName(t(lang, "console.staff.title"))
        self.table.setHorizontalHeaderLabels(
            [t(lang, f"console.staff.{c}") for c in ("username", "role", "state")]
        )
        self.table.verticalHeader().hide()
        touch_scroll(self.table)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._refresh_actions)
        column.addWidget(self.table, 1)
        column.addLayout(self._account_actions())
        column.addWidget(self._create_form())
        self.message = label("", "hint")
        self.message.hide()
        column.addWidget(self.message)
        self.refresh()

    def _account_actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.toggle_button = button(t(self.lang, "console.staff.disable"))
        self.toggle_button.clicked.connect(self.toggle_active)
        row.addWidget(self.toggle_button)
        row.addSpacing(24)
        self.new_pin = line_edit(t(self.lang, "console.staff.new_pin"), secret=True, digits=True)
        self.new_pin.setMinimumWidth(200)  # (a portrait tablet's 800 pixels, in French too)
        self.reset_button = button(t(self.lang, "console.staff.reset_pin"))
        self.reset_button.clicked.connect(self.reset_pin)
        row.addWidget(self.new_pin)
        row.addWidget(self.reset_button)
        row.addStretch(1)
        return row

    def _create_form(self) -> QFrame:
        frame = QFrame()
        frame.setProperty("role", "card")
        grid = QGridLayout(frame)
        grid.addWidget(label(t(self.lang, "console.staff.create_title"), "subtitle"), 0, 0, 1, 2)
        self.new_username = line_edit(t(self.lang, "console.staff.username"))
        self.new_role = QComboBox()
        self.new_role.setAccessibleName(t(self.lang, "console.staff.role"))
        for role in ROLES:
            self.new_role.addItem(role_text(self.lang, role), role)
        self.new_role.setCurrentIndex(self.new_role.findData("coordinator"))
        self.create_pin = line_edit(t(self.lang, "console.staff.pin"), secret=True, digits=True)
        self.create_button = button(t(self.lang, "console.staff.create"), "primary")
        self.create_button.clicked.connect(self.create_account)
        # two by two: in a row of four, a portrait tablet's 800 pixels cut "Create" in French
        for n, widget in enumerate(
            (self.new_username, self.new_role, self.create_pin, self.create_button)
        ):
            grid.addWidget(widget, 1 + n // 2, n % 2)
        grid.addWidget(label(t(self.lang, "console.staff.pin_hint"), "hint"), 3, 0, 1, 2)
        return frame

    # -- state ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the accounts again, keeping the chosen one."""
        keep = self.chosen()
        accounts = storage.list_staff(self.db)
        self.table.setRowCount(len(accounts))
        for n, account in enumerate(accounts):
            state = "active" if account.active else "disabled"
            if account.active and account.locked_until:
                state = "locked"
            cells = (
                account.username,
                role_text(self.lang, account.role),
                t(self.lang, f"console.staff.state_{state}"),
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(USERNAME_ROLE, account.username)
                self.table.setItem(n, c, item)
            if account.username == keep:
                self.table.selectRow(n)
        self._refresh_actions()

    def chosen(self) -> str | None:
        """The username of the chosen account."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return str(item.data(USERNAME_ROLE)) if item else None

    def choose(self, username: str) -> bool:
        for n in range(self.table.rowCount()):
            item = self.table.item(n, 0)
            if item is not None and item.data(USERNAME_ROLE) == username:
                self.table.selectRow(n)
                return True
        return False

    def _chosen_account(self) -> Staff | None:
        username = self.chosen()
        if username is None:
            return None
        try:
            return storage.get_staff(self.db, username)
        except StorageError:
            return None

    # -- actions -------------------------------------------------------------------------------

    def create_account(self) -> None:
        username = self.new_username.text().strip()
        role = self.new_role.currentData()
        if self._done(
            lambda: storage.create_staff(
                self.db, self.staff, username, role, self.create_pin.text()
            ),
            t(self.lang, "console.staff.created", username=username),
        ):
            self.new_username.clear()
            self.create_pin.clear()
            self.choose(username)

    def toggle_active(self) -> None:
        account = self._chosen_account()
        if account is None:
            return
        change = storage.disable_staff if account.active else storage.enable_staff
        key = "console.staff.disabled" if account.active else "console.staff.enabled"
        self._done(
            lambda: change(self.db, self.staff, account.username),
            t(self.lang, key, username=account.username),
        )

    def reset_pin(self) -> None:
        account = self._chosen_account()
        if account is None:
            return
        if self._done(
            lambda: storage.reset_pin(self.db, self.staff, account.username, self.new_pin.text()),
            t(self.lang, "console.staff.pin_reset", username=account.username),
        ):
            self.new_pin.clear()

    def _done(self, change: Callable[[], object], success: str) -> bool:
        """Run one storage change; say what storage answered; True if it was made."""
        try:
            change()
        except StorageError as exc:
            say(self.message, refused(self.lang, exc), "error")
            return False
        self.refresh()
        say(self.message, success, "hint")
        return True

    def _refresh_actions(self) -> None:
        account = self._chosen_account()
        self.toggle_button.setEnabled(account is not None and account.id != self.staff.id)
        self.reset_button.setEnabled(account is not None)
        self.new_pin.setEnabled(account is not None)
        if account is not None:
            key = "console.staff.disable" if account.active else "console.staff.enable"
            self.toggle_button.setText(t(self.lang, key))
