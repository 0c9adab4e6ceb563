"""The rules of each service; no events, no drivers."""
