"""Saving the server's state to one file and reading it back (`paymock serve --state-file PATH`).

State is a registry of named components, each with `dump() -> JSON-able` and `load(data)`. The
core registers the store (every namespace, expired-but-retained objects included), the clock, the
fault rules (with their counters) and the idempotency cache; any other component (the webhook
outbox, a provider's registry) adds itself with

    core.persistence.register("webhooks", dump=outbox.dump, load=outbox.load)

Components load in the order they registered. A file holds

    {"format": "paymock-state", "version": 1, "saved_at": ..., "components": {name: data}}

and is written atomically: a temporary file in the same folder, fsync, then os.replace, so a
crash never leaves half a file. A file that is not JSON, lacks the format marker or has another
version is refused with a StateFileError (and never overwritten). Secrets have no place in it:
namespaces are hashes of credentials, and no component may dump keys or signing secrets.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson

FORMAT = "paymock-state"
VERSION = 1


class StateFileError(ValueError):
    """The state file cannot be used; the message says why. The file is left as it is."""


class Persistence:
    def __init__(self):
        self._components: dict[str, tuple[Callable[[], object], Callable[[object], None]]] = {}
        self._lock = threading.Lock()  # one save at a time

    def register(self, name: str, dump: Callable[[], object], load: Callable[[object], None]) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("a component needs a name")
        self._components[name] = (dump, load)

    def names(self) -> list[str]:
        return list(self._components)

    # -- documents ------------------------------------------------------------------------------
    def dump(self) -> dict:
        """The state document as saved (what `encoded()` writes, decoded)."""
        raw = self.encoded()
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:  # integers beyond 64 bits (see encode)
            return json.loads(raw)

    def encoded(self) -> bytes:
        """The state document as bytes, each component encoded on its own: one that cannot be
        dumped or encoded is left out and said so on stderr, and the others are saved."""
        parts = []
        for name, (dump, _) in list(self._components.items()):
            try:
                data = encode(dump())
            except Exception as exc:  # noqa: BLE001 - one bad component must not cost the rest
                print(f"paymock: state component {name!r} not saved: {type(exc).__name__}: {exc}",
                      file=sys.stderr, flush=True)
                continue
            parts.append(orjson.dumps(name) + b":" + data)
        head = orjson.dumps({"format": FORMAT, "version": VERSION, "saved_at": time.time()})
        return head[:-1] + b',"components":{' + b",".join(parts) + b"}}"

    def load(self, document) -> list[str]:
        """Apply a state document; returns the names of the components it restored."""
        check(document)
        components = document.get("components")
        if not isinstance(components, dict):
            raise StateFileError('"components" must be an object')
        restored = []
        for name, (_, load) in self._components.items():
            if name not in components:
                continue
            try:
                load(components[name])
            except StateFileError:
                raise
            except Exception as exc:  # a malformed section: say which one
                raise StateFileError(f"component {name!r} cannot be restored: {exc}") from None
            restored.append(name)
        return restored

    # -- files ----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        path = Path(path)
        with self._lock:
            data = self.encoded()
            write_atomically(path, data)
        return path

    def restore(self, path: str | Path) -> list[str] | None:
        """Load `path` if it exists (None when it does not: a fresh start). Temporary files a
        killed save left beside it go first."""
        path = Path(path)
        remove_leftovers(path)
        if not path.exists():
            return None
        return self.load(read(path))


def check(document) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StateFileError(f'not a paymock state file (no "format": "{FORMAT}" marker)')
    version = document.get("version")
    if version != VERSION:
        raise StateFileError(f"state file version {version!r} is not supported; this paymock "
                             f"reads version {VERSION}")


def read(path: Path) -> dict:
    if path.is_dir():
        raise StateFileError(f"{path} is a directory, not a state file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:  # integers beyond 64 bits are written by the stdlib encoder (see encode)
            document = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise StateFileError(f"{path} is not a paymock state file (not JSON: {exc})") from None
    check(document)
    return document


def encode(document) -> bytes:
    try:
        return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)
    except TypeError as exc:  # e.g. an integer beyond 64 bits kept from a request body
        if "recursion" in str(exc).lower():
            raise ValueError("nested too deep to be written") from None
        return json.dumps(document, default=str).encode()


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}."


def write_atomically(path: Path, data: bytes) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


class AutoSaver:
    """Saves every `interval` seconds from a daemon thread; `stop()` saves one last time."""

    def __init__(self, persistence: Persistence, path: str | Path, interval: float):
        self.persistence = persistence
        self.path = Path(path)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.saves = 0

    def start(self) -> AutoSaver:
        if self.interval and self.interval > 0:
            self._thread = threading.Thread(target=self._run, name="paymock-state", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._save()

    def _save(self) -> bool:
        try:
            self.persistence.save(self.path)
            self.saves += 1
            return True
        except Exception as exc:  # keep serving; say so
            print(f"paymock: could not save state to {self.path}: {exc}", file=sys.stderr, flush=True)
            return False

    def stop(self, final_save: bool = True) -> bool:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        return self._save() if final_save else True


def remove_leftovers(path: Path) -> list[Path]:
    """Delete the temporary files of saves that never finished (the process was killed between
    writing and renaming): they are ours by name, and only this process writes the state file."""
    folder = path.parent if str(path.parent) else Path(".")
    prefix, removed = _temporary_prefix(path), []
    try:
        candidates = list(folder.iterdir())
    except OSError:  # no folder yet: nothing was ever saved there
        return removed
    for candidate in candidates:
        name = candidate.name
        if name.startswith(prefix) and name.endswith(".tmp") and candidate.is_file():
            try:
                candidate.unlink()
                removed.append(candidate)
            except OSError:
                pass
    return removed


# -- the core's components -----------------------------------------------------------------------
def register_core(persistence: Persistence, core) -> None:
    """Register the clock, the store, the fault rules and the idempotency cache, each by its own
    dump()/load()."""
    persistence.register("clock", core.clock.dump, core.clock.load)
    persistence.register("store", core.store.dump, core.store.load)
    persistence.register("faults", core.faults.dump, core.faults.load)
    persistence.register("idempotency", core.idempotency.dump, core.idempotency.load)
