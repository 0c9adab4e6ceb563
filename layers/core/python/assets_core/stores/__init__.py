"""Store interfaces and the adapters behind them (MongoDB, S3, Redis)."""
