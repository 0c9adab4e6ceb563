"""Lambda functions, one folder per API group or event consumer."""
