"""The `ingresslib` command line: `check` manifests (more commands arrive with the router)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from ingresslib._version import __version__
from ingresslib.resources import ManifestError, ResourceSet, load_manifests

__all__ = ["main", "run"]


def _summary(resources: ResourceSet, out: TextIO) -> None:
    counts = Counter(resource.kind for resource in resources)
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    out.write(f"ok: {len(resources)} resources ({kinds or 'none'})\n")
    for ingress in resources.ingresses:
        spec = ingress.spec
        paths = sum(len(rule.http.paths) for rule in spec.rules if rule.http is not None)
        hosts = sorted({rule.host or "*" for rule in spec.rules})
        details = [f"class={ingress.class_name or '-'}", f"{paths} path(s)"]
        if hosts:
            details.append("hosts=" + ",".join(hosts))
        if spec.default_backend is not None:
            details.append(f"defaultBackend={spec.default_backend.describe()}")
        if spec.tls:
            details.append(f"tls={len(spec.tls)}")
        out.write(f"  {ingress.ref}: {'; '.join(details)}\n")
    for ingress_class in resources.ingress_classes:
        default = " (default)" if ingress_class.is_default else ""
        out.write(f"  {ingress_class.ref}: controller={ingress_class.spec.controller}{default}\n")
    for skipped in resources.skipped:
        out.write(f"warning: {skipped}\n")


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        resources = load_manifests(args.paths, namespace=args.namespace, unknown_kinds="ignore")
    except ManifestError as error:
        err.write(f"{error}\n")
        return 1
    _summary(resources, out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingresslib", description="Kubernetes Ingress semantics for Python."
    )
    parser.add_argument("--version", action="version", version=f"ingresslib {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check", help="validate manifests as the kube-apiserver would and summarise them"
    )
    check.add_argument("paths", nargs="+", help="manifest files or directories")
    check.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for objects that name none (default: %(default)s)",
    )
    check.set_defaults(handler=_check)
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return the exit status (0 ok, 1 problems found, 2 usage)."""
    args = _parser().parse_args(argv)
    status: int = args.handler(args, out or sys.stdout, err or sys.stderr)
    return status


def run() -> None:
    """Console-script entry point: run `main` and exit with its status."""
    sys.exit(main())
