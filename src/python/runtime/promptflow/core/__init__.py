"""`from promptflow.core import tool, log_metric`, as newer promptflow code writes it."""

from promptflow._kwgraph import ToolProvider, log_metric, tool

__all__ = ["ToolProvider", "log_metric", "tool"]
