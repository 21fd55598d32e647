"""The 3x-ui panel client (v2.x, v3.0, v3.1+), client identities and share links."""
