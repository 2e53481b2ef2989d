"""Touch widgets shared by the kiosk and the console (pages, buttons, sliders, job panel)."""
