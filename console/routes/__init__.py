"""The console's routes, one module per area (see console/__init__.py for how to add one)."""
