"""The Qt layer of RESPINE Desktop: the kiosk room, the console room and their shared widgets."""
