"""The package's public names, pinned; and every module declares `__all__`."""

from __future__ import annotations

import importlib
import pkgutil
import types

import ingresslib

EXPECTED_ROOT_NAMES = {
    "Backend",
    "Decision",
    "DecisionPolicy",
    "EndpointSlice",
    "Explanation",
    "FrozenMap",
    "Ingress",
    "IngressBackend",
    "IngressClass",
    "ManifestError",
    "ManifestProblem",
    "ObjectMeta",
    "PathType",
    "Resource",
    "Request",
    "ResourceSet",
    "RouteMatch",
    "RouteTable",
    "RouteTableError",
    "Secret",
    "Service",
    "SkippedDocument",
    "UnsupportedKindWarning",
    "WeightedBackend",
    "__version__",
    "load_manifests",
}


def test_root_exports_exactly_the_public_api() -> None:
    assert set(ingresslib.__all__) == EXPECTED_ROOT_NAMES
    assert len(ingresslib.__all__) == len(EXPECTED_ROOT_NAMES), "no name listed twice"
    # Sub-packages appear as attributes once imported; everything else must be in __all__.
    stray = {
        name
        for name, value in vars(ingresslib).items()
        if not name.startswith("_")
        and name not in ingresslib.__all__
        and not (isinstance(value, types.ModuleType) and value.__name__.startswith("ingresslib."))
    }
    assert stray == set()


def test_every_module_declares_all_and_exports_what_it_has() -> None:
    modules = [
        info.name
        for info in pkgutil.walk_packages(ingresslib.__path__, prefix="ingresslib.")
        if info.name != "ingresslib.__main__"  # running it is its whole job
    ]
    assert "ingresslib.resources._loader" in modules
    for name in modules:
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{name} declares no __all__"
        missing = [item for item in exported if not hasattr(module, item)]
        assert not missing, f"{name}.__all__ names what it lacks: {missing}"


def test_manifest_error_is_a_value_error() -> None:
    assert issubclass(ingresslib.ManifestError, ValueError)
