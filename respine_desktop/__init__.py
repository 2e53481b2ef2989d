"""RESPINE Desktop domain: instruments, scoring, study schedule, storage, reports and exports."""

__version__ = "0.1.0"
