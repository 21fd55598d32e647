"""Operators: who may run the shop (roles from settings), the console's one-time sign-in links and
sessions, and the audit log every operator action lands in, from the console, the bot or the CLI.

May use the shared modules. Never `api`, `bot`, `console`, `worker`, `sandbox` or the runtime.
"""
