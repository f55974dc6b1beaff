"""Designed-model builders kept in their own modules. `scripts/build_models.py` calls each module's
`register(build_models_namespace)` so the module can use its graph helpers and `@design` registry."""
