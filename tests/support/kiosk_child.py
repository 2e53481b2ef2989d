"""Child process of the crash test: the real kiosk, driven to an item, then waiting to be killed.

Usage: python kiosk_child.py DB_PATH SETTINGS_PATH ITEM_ID
Prints "at ITEM_ID" once that item is on screen, then runs the event loop until killed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1])]

from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.support.kiosk import Kiosk, make_kiosk  # noqa: E402
from ui.style import apply_style  # noqa: E402


def main() -> None:
    db_path, settings_path, item_id = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    app = QApplication([sys.argv[0]])
    apply_style(app)
    flow, timer = make_kiosk(db_path, settings_path)
    flow.window.show()
    kiosk = Kiosk(flow, timer, db_path)
    kiosk.unlock()
    kiosk.hand_over()
    kiosk.answer_until(item_id)
    print(f"at {kiosk.item().step.item.id}", flush=True)
    app.exec()


if __name__ == "__main__":
    main()
