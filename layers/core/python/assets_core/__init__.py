"""Shared code of the Assets Registry functions: models, logic, stores, config, errors."""
