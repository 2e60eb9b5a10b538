"""Shipping sigflow programs: MLflow PyFunc packaging, the registry, the endpoint, and the CLI's top."""

__all__: list[str] = []
