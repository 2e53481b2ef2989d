"""Developer tools of a checkout; not shipped in the wheel."""
