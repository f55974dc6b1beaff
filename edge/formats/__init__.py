"""Renderers of one face's measurements into an API's JSON (pure: no I/O). The seed format is built by
the analyzers themselves; the vendor's three-tier family (ailab_*) is rendered from `FaceMeasures`."""
