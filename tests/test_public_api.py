"""The package's public names, pinned; and every module declares `__all__`."""

from __future__ import annotations

import importlib
import pkgutil

import ingresslib

EXPECTED_ROOT_NAMES = {
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
    "ResourceSet",
    "RouteMatch",
    "RouteTable",
    "RouteTableError",
    "Secret",
    "Service",
    "SkippedDocument",
    "UnsupportedKindWarning",
    "__version__",
    "load_manifests",
}


def test_root_exports_exactly_the_public_api() -> None:
    assert set(ingresslib.__all__) == EXPECTED_ROOT_NAMES
    assert len(ingresslib.__all__) == len(EXPECTED_ROOT_NAMES), "no name listed twice"
    public = {name for name in vars(ingresslib) if not name.startswith("_")}
    # Sub-packages appear as attributes once imported; everything else must be in __all__.
    assert public - set(ingresslib.__all__) <= {"resources", "routing", "plugins", "cli"}


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
