"""Lambda function: registry_graphql."""
