"""The embedded local model: GGUF assembly, worker processes, and their pool."""
