"""promptflow's tracing decorators: kwgraph records node outputs itself, so these do nothing."""


def trace(func=None, **_options):
    """Returns the function unchanged: `@trace` and `@trace(...)` both work."""
    if func is None:
        return lambda function: function
    return func


def start_trace(*_args, **_kwargs):
    """Does nothing; kwgraph writes each run's trace.jsonl."""
