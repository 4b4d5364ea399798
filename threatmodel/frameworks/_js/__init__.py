"""Helpers the JavaScript routers share: guards, rejections, callers, handler bodies.

``guard.py`` decides whether a middleware or handler rejects a caller without an identity
(with ``reject.py``: what a rejection looks like, ``handler.py``: a handler's own checks,
``callers.py``: functions handed the app or router).
"""

GUARDS = ("threatmodel.frameworks._js.guard", "threatmodel.frameworks._js.handler")
