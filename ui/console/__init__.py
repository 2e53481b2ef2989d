"""The investigator console room: worklist, subject, reports, exports, conflicts, staff."""
