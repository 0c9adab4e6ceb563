"""Lambda function: ingest."""
