"""Lambda function: registry_query."""
