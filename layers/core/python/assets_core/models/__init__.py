"""Pydantic models of the services' documents."""
