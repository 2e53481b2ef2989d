"""`python main.py screenshots`: every kiosk and console screen as PNG files (dev-only)."""
