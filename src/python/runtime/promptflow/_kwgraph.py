"""The state kwgraph's stand-ins for promptflow share with kwgraph's Python worker.

These modules exist so that a promptflow flow's tools import and run without promptflow
installed: `@tool` marks the function a python node calls, `log_metric` records a metric of the
run. They are deliberately small; see the README's "Coming from promptflow" section.
"""

import math

TOOL_MARK = "__kwgraph_tool__"

# The metrics of the call in progress; None between calls (a worker runs one call at a time).
_metrics = None


def tool(func=None, **_options):
    """Marks a function as a flow's tool: `@tool`, `@tool()` and `@tool(name=...)` all work."""

    def mark(function):
        setattr(function, TOOL_MARK, True)
        return function

    if func is None:
        return mark
    return mark(func)


def log_metric(key, value, variant_id=None):
    """Records a metric of the run. Only aggregation nodes' metrics reach the run's metrics."""
    del variant_id  # a kwgraph run is one variant already
    if hasattr(value, "item") and callable(value.item):
        value = value.item()  # numpy and pandas scalars
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"log_metric({key!r}, ...) needs a number, got {type(value).__name__}")
    if _metrics is not None:
        _metrics[str(key)] = value if math.isfinite(value) else None


def begin_metrics():
    """Starts collecting the metrics of one call."""
    global _metrics
    _metrics = {}


def end_metrics():
    """Stops collecting and returns what the call logged."""
    global _metrics
    collected, _metrics = _metrics or {}, None
    return collected


class ToolProvider:
    """promptflow's base class for class-based tools, so that such files import; kwgraph
    runs function tools only and says so when a flow names a class-based one."""

    def __init__(self, *args, **kwargs):
        del args, kwargs
