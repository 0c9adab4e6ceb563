"""Lambda function: registry_download."""
