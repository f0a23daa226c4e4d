"""The public surface: __all__ is sorted, complete and importable; import is cheap."""

from __future__ import annotations

import subprocess
import sys
import types

import humanfactors


def test_all_is_sorted_and_unique():
    assert humanfactors.__all__ == sorted(set(humanfactors.__all__))


def test_every_public_name_resolves():
    for name in humanfactors.__all__:
        assert getattr(humanfactors, name) is not None, name


def test_all_equals_the_public_names():
    public = {
        n for n in dir(humanfactors)
        if not n.startswith("_") and not isinstance(getattr(humanfactors, n), types.ModuleType)
    }
    assert public == set(humanfactors.__all__) - {"__version__"}


def test_unknown_attribute_raises_attribute_error():
    try:
        humanfactors.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_is_cheap_and_loads_no_heavy_modules():
    code = (
        "import sys, time; t = time.perf_counter(); import humanfactors; "
        "t = time.perf_counter() - t; "
        "heavy = [m for m in ('sklearn', 'pandas', 'matplotlib', 'scipy', 'dask', 'pydantic')"
        " if m in sys.modules]; "
        "print(heavy, t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, _ = out.stdout.rsplit(" ", 1)
    assert heavy == "[]", heavy


def test_version_matches_metadata():
    from importlib.metadata import version

    assert humanfactors.__version__ == version("humanfactors")


def test_public_names_are_not_shadowed_by_submodules():
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(humanfactors.__path__):
        if mod.name == "__main__":
            continue
        importlib.import_module(f"humanfactors.{mod.name}")
    for name in humanfactors.__all__:
        assert not isinstance(getattr(humanfactors, name), types.ModuleType), name
