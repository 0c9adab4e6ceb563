"""Lambda function: assetdb."""
