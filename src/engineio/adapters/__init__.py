"""Adapters between web frameworks and the Engine.IO drivers.

Each adapter only translates a framework's native request, response and
WebSocket into the core's plain models and back.
"""
