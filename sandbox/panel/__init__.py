"""A faithful 3x-ui panel simulator (v2, v3.0, v3.1, v3.4 modes) for tests, benchmarks and the demo."""

from sandbox.panel.server import SandboxPanel, sandbox_panel
from sandbox.panel.state import V2, V3_0, V3_1, V3_4, VERSIONS

__all__ = ["V2", "V3_0", "V3_1", "V3_4", "VERSIONS", "SandboxPanel", "sandbox_panel"]
