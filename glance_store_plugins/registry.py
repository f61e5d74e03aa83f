"""Loading drivers through entry points and serving several named backends.

A :class:`Registry` always knows one or more named backends (a single store is one backend named
``default``) and which one is the default. :func:`build_registry` creates it from a mapping
``{backend_name: (driver_name, {option: value})}``; any problem — unknown driver name, a plugin
that cannot be imported or is not a :class:`Store`, a bad option — raises :class:`ConfigError`
(or its subclass :class:`PluginLoadError`) naming the backend, the driver and the cause.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import stevedore
from stevedore import exception as stevedore_errors

from glance_store_plugins import location as loc
from glance_store_plugins.base import Store
from glance_store_plugins.errors import ConfigError, PluginLoadError, UnknownBackend
from glance_store_plugins.options import Option
from glance_store_plugins.results import ReadStream, WriteResult

NAMESPACE = "glance_store_plugins.drivers"

BackendSpec = tuple[str, Mapping[str, Any]]


def available_drivers() -> list[str]:
    """Names of every installed driver entry point (without importing them)."""
    return sorted({ep.name for ep in importlib.metadata.entry_points(group=NAMESPACE)})


def load_driver(name: str) -> type[Store]:
    """Import the driver class registered under ``name`` or raise PluginLoadError."""

    def failed(_manager: Any, entrypoint: Any, exc: BaseException) -> None:
        raise PluginLoadError(
            f"store driver {name!r} ({entrypoint.value}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from exc

    try:
        manager = stevedore.DriverManager(
            NAMESPACE, name, invoke_on_load=False, on_load_failure_callback=failed,
        )
    except stevedore_errors.NoMatches:
        raise PluginLoadError(
            f"unknown store driver {name!r}; installed drivers: "
            f"{', '.join(available_drivers()) or '(none)'}"
        ) from None
    except stevedore_errors.MultipleMatches:
        raise PluginLoadError(
            f"several plugins register store driver {name!r} in {NAMESPACE}"
        ) from None
    driver = manager.driver
    if not (isinstance(driver, type) and issubclass(driver, Store)):
        raise PluginLoadError(
            f"store driver {name!r} is {driver!r}, not a subclass of glance_store_plugins.Store"
        )
    return driver


def driver_options(name: str) -> Mapping[str, Option]:
    """The options a driver accepts (besides the common ``store_description``)."""
    return dict(load_driver(name).options)


class Registry:
    """Named store backends; maps locations to backends and routes operations.

    >>> from glance_store_plugins.drivers.memory import MemoryStore
    >>> registry = Registry({"fast": MemoryStore(backend="fast")}, default="fast")
    >>> result = registry.write("img-1", [b"data"])
    >>> registry.backend_of(result.url), registry.read(result.url).read_all()
    ('fast', b'data')
    """

    def __init__(self, stores: Mapping[str, Store], *, default: str | None = None) -> None:
        if not stores:
            raise ConfigError("no store backend is configured")
        if default is None:
            if len(stores) != 1:
                raise ConfigError("several store backends are configured but no default")
            default = next(iter(stores))
        if default not in stores:
            raise ConfigError(
                f"default store backend {default!r} is not configured; configured backends: "
                f"{', '.join(stores)}"
            )
        for name, store in stores.items():
            if store.backend != name:
                raise ConfigError(
                    f"store for backend {name!r} was built for backend {store.backend!r}"
                )
        self._stores = dict(stores)
        self.default = default

    def names(self) -> list[str]:
        """Backend names, in configuration order."""
        return list(self._stores)

    def __iter__(self) -> Iterator[Store]:
        return iter(self._stores.values())

    def __len__(self) -> int:
        return len(self._stores)

    def get(self, name: str | None = None) -> Store:
        """The backend called ``name`` (the default one when None)."""
        name = self.default if name is None else name
        try:
            return self._stores[name]
        except KeyError:
            raise UnknownBackend(
                f"unknown store backend {name!r}; configured backends: {', '.join(self._stores)}"
            ) from None

    def restricted_schemes(self) -> frozenset[str]:
        """Every scheme a configured backend's driver declares restricted (in lower case):
        URLs a caller may never give an image as a location."""
        return frozenset(s.lower() for store in self._stores.values()
                         for s in store.restricted_schemes)

    def backend_of(self, location: str) -> str:
        """The name of the backend holding ``location`` (UnknownBackend if none)."""
        return self.store_for(location).backend

    def store_for(self, location: str) -> Store:
        for store in self._stores.values():
            if store.owns(location):
                return store
        raise UnknownBackend(f"no configured store backend holds {loc.redact(str(location))}")

    def write(
        self,
        image_id: str,
        chunks: Iterable[bytes],
        *,
        backend: str | None = None,
        size: int | None = None,
        max_size: int | None = None,
    ) -> WriteResult:
        return self.get(backend).write(image_id, chunks, size=size, max_size=max_size)

    def read(self, location: str, *, offset: int = 0, length: int | None = None) -> ReadStream:
        return self.store_for(location).read(location, offset=offset, length=length)

    def delete(self, location: str) -> None:
        self.store_for(location).delete(location)

    def size(self, location: str) -> int:
        return self.store_for(location).size(location)

    def remove_partial(self, image_id: str) -> int:
        """Remove the leftovers of an unfinished write of ``image_id`` from every backend
        (the one that was being written is not recorded anywhere); how many were removed."""
        return sum(store.remove_partial(image_id) for store in self._stores.values())


def build_store(
    backend: str, driver: str, options: Mapping[str, Any] | None = None, *,
    hashing_algorithm: str = "sha512",
) -> Store:
    """Load ``driver`` and build one backend, or raise ConfigError naming the backend."""
    try:
        cls = load_driver(driver)
    except PluginLoadError as exc:
        raise PluginLoadError(f"store backend {backend!r}: {exc}") from exc.__cause__
    return cls(options or {}, backend=backend, hashing_algorithm=hashing_algorithm)


def build_registry(
    backends: Mapping[str, BackendSpec],
    default: str | None = None,
    *,
    hashing_algorithm: str = "sha512",
) -> Registry:
    """Build every backend of ``{name: (driver, options)}``; ``default`` names the default one.

    With one backend, ``default`` may be omitted. Fails loudly (ConfigError) on the first broken
    backend.
    """
    stores: dict[str, Store] = {}
    for name, spec in backends.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"invalid store backend name {name!r}")
        try:
            driver, options = spec
        except (TypeError, ValueError):
            raise ConfigError(
                f"store backend {name!r}: expected (driver_name, options), got {spec!r}"
            ) from None
        stores[name] = build_store(name, driver, options, hashing_algorithm=hashing_algorithm)
    return Registry(stores, default=default)
