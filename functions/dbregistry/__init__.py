"""Lambda function: dbregistry."""
