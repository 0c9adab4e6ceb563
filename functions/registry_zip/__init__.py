"""Lambda function: registry_zip."""
