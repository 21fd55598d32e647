"""A faithful 3x-ui panel simulator (v2, v3.0, v3.1 modes) for tests, benchmarks and the demo."""

from sandbox.panel.server import SandboxPanel, sandbox_panel
from sandbox.panel.state import V2, V3_0, V3_1, VERSIONS

__all__ = ["V2", "V3_0", "V3_1", "VERSIONS", "SandboxPanel", "sandbox_panel"]
