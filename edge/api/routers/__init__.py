"""One router per resource: analyze, health, metrics, kiosk (live preview + scan), diary, ui."""
