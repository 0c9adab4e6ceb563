"""HTTP API groups: each registers its routes on a resolver; handlers compose them."""
