"""A stand-in for the parts of promptflow that flow code imports, shipped with kwgraph."""

from promptflow._kwgraph import ToolProvider, log_metric, tool

__all__ = ["ToolProvider", "log_metric", "tool"]
