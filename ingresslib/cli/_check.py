"""`ingresslib check PATH...`: validate manifests as the kube-apiserver would, summarise, lint."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import TextIO

from ingresslib.cli._tables import add_table_options, load
from ingresslib.resources import ResourceSet
from ingresslib.routing import lint
from ingresslib.tls import CertificateStore, certificate_sources

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ingresslib check PATH...`."""
    check = commands.add_parser(
        "check",
        help="validate manifests as the kube-apiserver would, summarise and lint them",
    )
    check.add_argument("paths", nargs="+", help="manifest files or directories")
    add_table_options(check, gateway=False)
    check.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Validate, summarise and lint; 0 when the manifests load, else 1."""
    loaded = load(args, err)
    if loaded is None:
        return 1
    resources, table = loaded
    _summary(resources, out)
    out.write(f"  routes: {len(table)} across {sum(1 for _ in table.virtual_hosts())} host(s)\n")
    for skipped in resources.skipped:
        out.write(f"warning: {skipped}\n")
    for finding in lint(table, resources):
        out.write(f"warning: {finding}\n")
    # What `serve` would do with the TLS sections of the Ingresses it routes: a missing,
    # malformed, mismatched or expired certificate is reported; other hosts are unaffected.
    certificates = CertificateStore.build(certificate_sources(table, resources))
    for problem in certificates.problems:
        out.write(f"warning: certificate: {problem}\n")
    return 0


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
