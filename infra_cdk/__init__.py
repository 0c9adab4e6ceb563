"""The AWS deployment, in CDK: one stack that composes one construct per capability."""
