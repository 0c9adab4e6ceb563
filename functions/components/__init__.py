"""Lambda function: components."""
