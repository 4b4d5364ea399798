"""Helpers the JavaScript routers share: guards, rejections, callers, handler bodies."""
