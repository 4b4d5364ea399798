"""Render layer: a Report into THREAT_MODEL.md, JSON or SARIF (one module per format)."""

from threatmodel.render.formats import FORMATS, render

__all__ = ["FORMATS", "render"]
