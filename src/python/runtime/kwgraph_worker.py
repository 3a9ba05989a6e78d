"""kwgraph's Python worker: runs the python nodes of one flow for one build.

kwgraph starts it with the flow folder as the working directory and this folder (which holds
the `promptflow` stand-ins) on PYTHONPATH, then writes one JSON request per line to stdin:

    {"id": 1, "file": "/abs/flows/x/grade.py", "function": null, "inputs": {...},
     "bypassed": ["name", ...], "connections": {"input": {...}}}

and reads one JSON reply per line, in order:

    {"id": 1, "ok": true, "output": ..., "metrics": {...}, "stdout": "..."}
    {"id": 1, "ok": false, "error": {"type": ..., "message": ..., "frames": [...], ...}}

Anything a tool prints goes to stderr or into the reply's `stdout`, never into the replies. The
worker ends when stdin closes or when kwgraph (its parent) goes away.
"""

import asyncio
import base64
import contextlib
import dataclasses
import datetime
import decimal
import enum
import importlib.util
import inspect
import io
import json
import math
import os
import re
import signal
import sys
import threading
import time
import typing

from promptflow import _kwgraph
from promptflow.connections import (
    CONNECTION_CLASSES,
    AzureOpenAIConnection,
    CustomConnection,
    OpenAIConnection,
    _Connection,
)
from promptflow.contracts.multimedia import Image

RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_ROOT = os.environ.get("KWGRAPH_PROJECT_ROOT", os.getcwd())
IMAGE_KEY = re.compile(r"^data:(image/[A-Za-z0-9.+*-]+);(path|url|base64)$")
STDOUT_LIMIT = 10_000


class SetupError(Exception):
    """The node and its tool do not fit together (no @tool, a missing input): no traceback."""


def main():
    # Ctrl-C reaches the whole process group; kwgraph shuts its workers down itself.
    signal.signal(signal.SIGINT, signal.SIG_DFL)

    # The replies get their own copy of stdout; fd 1 itself then points at stderr, so that
    # prints from C extensions or subprocesses cannot corrupt the protocol.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    watch_parent()

    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        request = json.loads(line)
        reply = handle(request)
        try:
            text = json.dumps(reply, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            text = json.dumps(failure(request.get("id"), error, setup=True))
        replies.write(text + "\n")
        replies.flush()


def watch_parent():
    """Ends the worker when kwgraph dies without closing stdin (killed while a tool runs)."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def handle(request):
    request_id = request.get("id")
    printed = io.StringIO()
    try:
        function = find_tool(request["file"], request.get("function"))
        arguments = tool_arguments(
            function,
            request.get("inputs", {}),
            set(request.get("bypassed", [])),
            request.get("connections", {}),
        )
        _kwgraph.begin_metrics()
        try:
            with contextlib.redirect_stdout(printed):
                result = call(function, arguments)
        finally:
            metrics = _kwgraph.end_metrics()
        return {
            "id": request_id,
            "ok": True,
            "output": to_json(result, "the output"),
            "metrics": metrics,
            "stdout": printed.getvalue()[-STDOUT_LIMIT:],
        }
    except SetupError as error:
        return failure(request_id, error, setup=True, printed=printed.getvalue())
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - a tool's SystemExit fails its row too
        return failure(request_id, error, setup=False, printed=printed.getvalue())


def failure(request_id, error, setup, printed=""):
    described = {"type": type(error).__name__, "message": str(error), "setup": setup}
    if isinstance(error, ModuleNotFoundError) and error.name:
        described["missing_module"] = error.name.split(".")[0]
    if not setup:
        described["frames"] = [
            {"file": frame.filename, "line": frame.lineno, "function": frame.name,
             "code": frame.line or ""}
            for frame in traceback_frames(error)
        ]
    return {"id": request_id, "ok": False, "error": described, "stdout": printed[-STDOUT_LIMIT:]}


def traceback_frames(error):
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    # The worker's own frames and Python's import machinery say nothing about the tool.
    return [
        frame
        for frame in frames
        if not frame.filename.startswith("<")
        and not os.path.abspath(frame.filename).startswith(RUNTIME_DIR + os.sep)
    ]


# Modules by file: a worker serves one flow, and each file is imported once.
_modules = {}


def load_module(file):
    module = _modules.get(file)
    if module is not None:
        return module
    relative = os.path.relpath(file, os.getcwd())
    name = (
        relative[: -len(".py")].replace(os.sep, ".")
        if not relative.startswith("..")
        else "kwgraph_tool_" + re.sub(r"\W", "_", file)
    )
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise SetupError(f"{relative} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, so that the flow's other files can import it by name.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    _modules[file] = module
    return module


def find_tool(file, function_name):
    module = load_module(file)
    shown = os.path.relpath(file, PROJECT_ROOT)
    if function_name:
        function = getattr(module, function_name, None)
        if not callable(function):
            raise SetupError(f"{shown} has no function {function_name}")
        return function

    tools = [
        value
        for value in vars(module).values()
        if inspect.isfunction(value)
        and getattr(value, _kwgraph.TOOL_MARK, False)
        and value.__module__ == module.__name__
    ]
    if len(tools) == 1:
        return tools[0]
    if len(tools) > 1:
        names = ", ".join(tool.__name__ for tool in tools)
        raise SetupError(
            f"{shown} has several @tool functions ({names}): "
            "name one with `function:` under the node's source"
        )
    if any(inspect.isclass(value) and issubclass(value, _kwgraph.ToolProvider)
           for value in vars(module).values()):
        raise SetupError(f"{shown} holds a class-based tool, which kwgraph does not run: "
                         "write the tool as a function decorated with @tool")
    raise SetupError(f"{shown} has no function decorated with @tool: "
                     "add `from promptflow import tool` and `@tool` above the function")


def tool_arguments(function, inputs, bypassed, connections):
    signature = inspect.signature(function)
    parameters = signature.parameters
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # noqa: BLE001 - unresolvable annotations are simply not used
        hints = {}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())

    arguments = {}
    for name, value in inputs.items():
        parameter = parameters.get(name)
        if parameter is None and not takes_any:
            raise SetupError(
                f"node input `{name}` is not a parameter of "
                f"{function.__name__}({', '.join(parameters)})"
            )
        if name in bypassed:
            # promptflow's rule: a bypassed node's output is left out where the parameter has a
            # default, and is None where it has none.
            if parameter is not None and parameter.default is not inspect.Parameter.empty:
                continue
            arguments[name] = None
            continue
        arguments[name] = to_python(value, hints.get(name), connections.get(name), name)

    missing = [
        p.name
        for p in parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.default is inspect.Parameter.empty
        and p.name not in arguments
    ]
    if missing:
        raise SetupError(
            f"{function.__name__} needs {', '.join(missing)}, which the node does not give: "
            "add them under the node's inputs"
        )
    return arguments


def call(function, arguments):
    result = function(**arguments)
    if inspect.isawaitable(result):
        result = asyncio.run(awaited(result))
    if inspect.isgenerator(result):
        # promptflow streams generated text; stored outputs are whole.
        items = list(result)
        result = "".join(items) if all(isinstance(item, str) for item in items) else items
    return result


async def awaited(awaitable):
    return await awaitable


# ---- values in: JSON to what a promptflow tool expects ----


def to_python(value, annotation, connection, name):
    kinds = annotation_types(annotation)
    connection_class = next(
        (kind for kind in kinds if inspect.isclass(kind) and issubclass(kind, _Connection)), None
    )
    if connection_class is not None and isinstance(value, str):
        if connection is None:
            raise SetupError(
                f"input `{name}` names connection `{value}`, which experiment.yaml does not "
                "define: add it under `connections:`"
            )
        return make_connection(connection_class, connection)

    value = with_images(value)
    if isinstance(value, str):
        for kind in kinds:
            converted = from_text(value, kind)
            if converted is not None:
                return converted
    return value


def annotation_types(annotation):
    if annotation is None:
        return []
    arguments = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Union:
        return [kind for kind in arguments if kind is not type(None)]
    return [annotation]


def from_text(text, kind):
    """promptflow converts text inputs to the parameter's type; so does kwgraph."""
    try:
        if kind is bool:
            lowered = text.strip().lower()
            return {"true": True, "false": False}.get(lowered)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind in (list, dict) or typing.get_origin(kind) in (list, dict):
            parsed = json.loads(text)
            return parsed if isinstance(parsed, (list, dict)) else None
    except ValueError:
        return None
    return None


def make_connection(connection_class, settings):
    name = settings.get("name")
    api_key = settings.get("api_key")
    base_url = settings.get("base_url")
    if connection_class is AzureOpenAIConnection:
        extra = {"api_version": settings["api_version"]} if settings.get("api_version") else {}
        return AzureOpenAIConnection(api_base=base_url, api_key=api_key, name=name, **extra)
    if connection_class is CustomConnection or connection_class not in CONNECTION_CLASSES:
        configs = {
            key: settings[key] for key in ("kind", "base_url", "model") if settings.get(key)
        }
        if base_url:
            configs["api_base"] = base_url
        return CustomConnection(configs=configs, secrets={"api_key": api_key}, name=name)
    return OpenAIConnection(api_key=api_key, base_url=base_url, name=name)


def with_images(value):
    """promptflow's image values (`{"data:image/png;path": ...}`) become Image objects."""
    if isinstance(value, list):
        return [with_images(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        key, source = next(iter(value.items()))
        match = IMAGE_KEY.match(key) if isinstance(source, str) else None
        if match is not None:
            mime, form = match.groups()
            if form == "path":
                with open(source, "rb") as file:
                    image = Image(file.read(), mime_type=mime)
                image._kwgraph_path = os.path.abspath(source)
                return image
            if form == "base64":
                return Image(base64.b64decode(source), mime_type=mime)
            # NOTE: a URL image is passed as it is written; the worker does not download it.
            return value
    return {key: with_images(item) for key, item in value.items()}


# ---- values out: what a tool returns, as JSON ----


class ConversionError(SetupError):
    pass


def to_json(value, where, depth=0):
    if depth > 100:
        raise ConversionError(f"{where} nests too deeply (or refers to itself)")
    nested = depth + 1

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Image):
        return image_json(value)
    if isinstance(value, dict):
        return {
            key_text(key): to_json(item, f"{where}[{key!r}]", nested)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [to_json(item, f"{where}[{index}]", nested) for index, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        items = [to_json(item, f"{where} item", nested) for item in value]
        try:
            return sorted(items)
        except TypeError:
            return items

    module = type(value).__module__ or ""
    if module.startswith("numpy"):
        import numpy

        if isinstance(value, numpy.ndarray):
            return to_json(value.tolist(), where, nested)
        if isinstance(value, numpy.generic):
            return to_json(value.item(), where, nested)
    if module.startswith("pandas"):
        converted = pandas_json(value, where, nested)
        if converted is not NOT_CONVERTED:
            return converted

    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, enum.Enum):
        return to_json(value.value, where, nested)
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, _Connection):
        raise ConversionError(f"{where} is a connection, which is never stored")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json(dataclasses.asdict(value), where, nested)
    for method in ("model_dump", "dict"):
        dump = getattr(value, method, None)
        if callable(dump) and not inspect.isclass(value):
            try:
                dumped = dump()
            except TypeError:
                continue
            if isinstance(dumped, dict):
                return to_json(dumped, where, nested)
    raise ConversionError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which kwgraph cannot "
        "store as JSON: return dicts, lists, text, numbers (numpy and pandas values are fine)"
    )


NOT_CONVERTED = object()


def pandas_json(value, where, depth):
    import pandas

    if isinstance(value, pandas.DataFrame):
        return to_json(value.to_dict(orient="records"), where, depth)
    if isinstance(value, pandas.Series):
        if isinstance(value.index, pandas.RangeIndex):
            return to_json(value.tolist(), where, depth)
        return to_json(value.to_dict(), where, depth)
    if isinstance(value, pandas.Index):
        return to_json(value.tolist(), where, depth)
    if value is pandas.NaT or value is pandas.NA:
        return None
    if isinstance(value, pandas.Timestamp):
        return value.isoformat()
    if isinstance(value, pandas.Timedelta):
        return value.total_seconds()
    return NOT_CONVERTED


def key_text(key):
    if isinstance(key, str):
        return key
    if hasattr(key, "item") and callable(key.item):
        key = key.item()
    return str(key)


def image_json(image):
    mime = getattr(image, "_mime_type", "image/*")
    path = getattr(image, "_kwgraph_path", None)
    if path is not None:
        relative = os.path.relpath(path, PROJECT_ROOT)
        if not relative.startswith(".."):
            return {f"data:{mime};path": relative.replace(os.sep, "/")}
    return {f"data:{mime};base64": base64.b64encode(image).decode("ascii")}


if __name__ == "__main__":
    main()
