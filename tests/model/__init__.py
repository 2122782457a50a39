"""In-memory reference models of AWS services, for model-based (stateful) tests of a real server."""
