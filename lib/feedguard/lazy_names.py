"""A package's public names, loaded on first use (PEP 562): ``feedguard`` and ``feedguard.quality``.

Importing a package then costs only its own module: a Spark Python worker unpickling one function, or a job
that needs a suite's path, does not import Great Expectations (seconds) with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from importlib import import_module
from typing import Any


def lazy_names(
    package: MutableMapping[str, Any], public: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose ``public`` names (name -> module) load on use.

    ``package`` is the package's ``globals()``: a name, once loaded, is kept there.
    """

    def __getattr__(name: str) -> Any:
        module = public.get(name)
        if module is None:
            raise AttributeError(f"module {package['__name__']!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        package[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(public)

    return __getattr__, __dir__
