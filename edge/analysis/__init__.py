"""Analyzers, one module per seed face_field. Importing this package registers them all:
every module here except the helpers below is imported and calls `base.register(...)`."""

import importlib
import pkgutil

_NOT_ANALYZERS = {"base", "maps", "color_science", "reference", "lesion_blobs", "lesions", "ridges"}

for _info in pkgutil.iter_modules(__path__):
    if _info.name not in _NOT_ANALYZERS and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")
