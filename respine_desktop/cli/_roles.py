"""The role matrix: which staff roles may run which command, in one table.

Keys are a command, or a command and its subcommand (``"export csv"``). A command that writes,
exports or changes keys lists the roles that may run it: it then takes ``--user NAME`` and the
PIN (from the terminal, or from standard input with ``--pin-stdin``), checked before its handler
runs (`respine_desktop.cli._signin`). ``roles=None`` marks a command that runs without sign-in.
A command missing from the table is for administrators only (and a test fails until it is
listed): a new command adds one line here. docs/security-access.md shows this table (a test
checks that the two agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the storage package is imported only by the commands that use it
    from respine_desktop.storage import Role


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may run a command. `creates`: the command may create its database, and runs without
    sign-in when the database does not exist yet (there is nobody to sign in as). `read_only`:
    the command only reads the database, so sign-in first checks that a read-only open works (it
    never upgrades an older file's schema). `outputs`: the arguments naming the files or folders
    it writes (their files are hashed into the audit). `signs`: the command makes an electronic
    signature, so its handler is given the PIN typed at sign-in (``args.signature_pin``, never
    audited): the signature checks both components again (21 CFR 11.200)."""

    roles: tuple[Role, ...] | None
    why: str
    creates: bool = False
    read_only: bool = False
    outputs: tuple[str, ...] = ("out",)
    signs: bool = False


ADMIN: tuple[Role, ...] = ("admin",)
DATA: tuple[Role, ...] = ("data_manager", "admin")
EXPORTERS: tuple[Role, ...] = ("investigator", "data_manager", "admin")
SIGNERS: tuple[Role, ...] = ("investigator", "admin")
CLINICAL: tuple[Role, ...] = ("investigator", "coordinator", "data_manager", "admin")

MATRIX: dict[str, Rule] = {
    "init": Rule(None, "creates the database and its first administrator"),
    "status": Rule(None, "read-only"),
    "verify": Rule(None, "read-only"),
    "score": Rule(None, "scores a CSV file; opens no database"),
    "demo": Rule(ADMIN, "adds synthetic subjects (no sign-in when it creates the file)", True),
    "backup": Rule(DATA, "copies the whole database", read_only=True),
    "export csv": Rule(EXPORTERS, "exports study data", read_only=True),
    "export odm": Rule(EXPORTERS, "exports study data", read_only=True),
    "export redcap": Rule(EXPORTERS, "exports study data", read_only=True),
    "export bundle": Rule(EXPORTERS, "exports study data for the hub"),
    "export key": Rule(ADMIN, "writes the site key (keys and devices: admin)"),
    "import bundle": Rule(DATA, "merges a kiosk's data into this database", outputs=("receipt",)),
    "import key": Rule(ADMIN, "installs or replaces the site key (keys and devices: admin)"),
    "report patient": Rule(CLINICAL, "writes one subject's PDF", read_only=True),
    "report study": Rule(EXPORTERS, "writes the study summary PDF", read_only=True),
    "export stats": Rule(EXPORTERS, "exports labelled datasets", read_only=True),
    "export device": Rule(ADMIN, "writes this device's public keys (keys and devices: admin)"),
    "export hub-key": Rule(ADMIN, "writes the hub's public keys (keys and devices: admin)"),
    "import device": Rule(ADMIN, "enrols a device's public keys", outputs=()),
    "import hub-key": Rule(ADMIN, "installs the hub's public keys", outputs=()),
    "import translation": Rule(ADMIN, "installs a licensed translation", outputs=()),
    "export translation-template": Rule(
        None, "writes the English texts to translate; opens no database"
    ),
    "device revoke": Rule(ADMIN, "refuses a lost device's bundles from now on", outputs=()),
    "device hmac-bundles": Rule(ADMIN, "ends or reopens the site-key transition", outputs=()),
    "list devices": Rule(None, "read-only"),
    "sign": Rule(
        SIGNERS,
        "e-signs a visit or a subject (username and PIN typed again)",
        outputs=(),
        signs=True,
    ),
    "signatures": Rule(None, "read-only"),
    "validate": Rule(
        None,
        "qualifies the device in a temporary folder; with --db and --user, e-signs the results "
        "(its own username and PIN check)",
    ),
    # The database key's own commands: the site passphrase (or the recovery code) they ask for is
    # the authority, and the file cannot be opened for a staff sign-in before they have run.
    "encrypt": Rule(None, "needs the new site passphrase; a plaintext file only"),
    "rekey": Rule(None, "needs the current site passphrase or the recovery code"),
    "remember-key": Rule(None, "needs the site passphrase"),
    "forget-key": Rule(None, "removes this machine's copy of the key; opens no data"),
}

UNLISTED = Rule(ADMIN, "not in the role matrix: administrators only")


def rule_for(key: str) -> Rule:
    """The rule of command `key` (``"export csv"``); `UNLISTED` for a command not in `MATRIX`."""
    return MATRIX.get(key, UNLISTED)


ROLE_COLUMNS: tuple[Role, ...] = ("admin", "data_manager", "investigator", "coordinator")


def markdown_table() -> str:
    """`MATRIX` as the Markdown table of docs/security-access.md (a test compares the two)."""
    head = ["command", *ROLE_COLUMNS, "why"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, rule in MATRIX.items():
        if rule.roles is None:
            cells = ["no sign-in"] + [""] * (len(ROLE_COLUMNS) - 1)
        else:
            cells = ["yes" if role in rule.roles else "—" for role in ROLE_COLUMNS]
        lines.append(f"| `{key}` | " + " | ".join(cells) + f" | {rule.why} |")
    return "\n".join(lines) + "\n"
