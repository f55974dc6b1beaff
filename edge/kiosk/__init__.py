"""The kiosk daemon: capture -> tracker -> quality gate -> triggered analysis -> UI and diary."""
