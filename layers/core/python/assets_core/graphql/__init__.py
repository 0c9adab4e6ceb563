"""Read-only GraphQL: shared scalars, limits and the HTTP glue; one schema per service."""
