"""The MLflow layer: run and trial tracking, PyFunc packaging and the served model, the registry, the endpoint."""

__all__: list[str] = []
