"""skin-kiosk: offline, on-device skin analysis."""

__version__ = "0.1.0"
