"""The kiosk room: the patient screens, the staff-unlock screens, the window and its flow."""
