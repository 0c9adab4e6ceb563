"""Lambda function: registry_write."""
