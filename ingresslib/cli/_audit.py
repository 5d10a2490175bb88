"""`ingresslib audit (PATH... | --kubeconfig PATH)`: the annotations in use, and what they do here.

For people leaving ingress-nginx: every annotation of every Ingress (manifests on disk, or
the Ingresses of a cluster), with its status in ingresslib — implemented, not implemented,
refused (the snippets) or unknown —, what it does (ingress-nginx's own documentation of
it), and what ingresslib will do with the Ingress: the problems the annotation plugins
report (a value ignored, the paths answering 503, the Ingress not routed). Every
Ingress is audited, whatever its class. The exit status is 0 unless `--strict` is given
and an annotation is not implemented, refused or has an error (1), or the input does not
load (1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from typing import Any, TextIO

from ingresslib.ingress.annotations import CATALOGUE, NGINX_PREFIX, annotation_status
from ingresslib.resources import ManifestError, ManifestProblem, ResourceSet, load_manifests
from ingresslib.routing import RouteTable, RouteTableError

__all__ = ["add_parser", "audit_rows", "run"]

_READ_KINDS = (
    ("Ingress", "networking.k8s.io/v1", "ingresses"),
    ("IngressClass", "networking.k8s.io/v1", "ingressclasses"),
    ("Service", "v1", "services"),
    ("Secret", "v1", "secrets"),
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ingresslib audit`."""
    audit = commands.add_parser(
        "audit",
        help="list the ingress-nginx annotations in use and what ingresslib does with each",
        usage="%(prog)s [options] (PATH... | --kubeconfig PATH)",
    )
    audit.add_argument("paths", nargs="*", help="manifest files or directories")
    audit.add_argument("--kubeconfig", metavar="PATH", help="audit the Ingresses of this cluster")
    audit.add_argument("--context", help="the kubeconfig context (default: the current one)")
    audit.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for objects that name none (default: %(default)s)",
    )
    audit.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    audit.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when an annotation is not implemented, refused, or in error",
    )
    audit.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Audit; 0, or 1 (input that does not load; `--strict` findings)."""
    if bool(args.paths) == (args.kubeconfig is not None):
        err.write("ingresslib audit: give manifest PATHs or --kubeconfig PATH (one of them)\n")
        return 1
    try:
        if args.kubeconfig is not None:
            resources, notes = asyncio.run(_cluster_resources(args.kubeconfig, args.context))
        else:
            resources = load_manifests(args.paths, namespace=args.namespace, unknown_kinds="ignore")
            notes = []
    except ManifestError as error:
        err.write(f"{error}\n")
        return 1
    except (OSError, ImportError, RuntimeError) as error:
        err.write(f"ingresslib audit: {error}\n")
        return 1
    try:
        # Every Ingress, whatever its class: an audit is of what is in use.
        table = RouteTable.build(resources)
    except RouteTableError as error:
        err.write(f"{error}\n")
        return 1
    refused = {(i.metadata.namespace, i.metadata.name) for i, _ in table.refused_ingresses}
    rows = audit_rows(resources, table.annotation_problems, refused)
    if args.format == "json":
        out.write(json.dumps({"ingresses": rows, "notes": notes}, indent=2) + "\n")
    else:
        _text(rows, notes, out)
    if args.strict and any(
        annotation["status"] != "implemented" or annotation["errors"]
        for row in rows
        for annotation in row["annotations"]
    ):
        return 1
    return 0


def audit_rows(
    resources: ResourceSet,
    problems: tuple[ManifestProblem, ...],
    refused: set[tuple[str, str]],
) -> list[dict[str, Any]]:
    """One row per Ingress with annotations of the ingress-nginx prefix.

    Each row: {"ingress": "ns/name", "annotations": [{"name", "value", "status", "doc",
    "errors": [...], "warnings": [...]}], "routed": bool (False: in `refused`, the
    (namespace, name) of the Ingresses the plugins refused)}; `status` is "implemented",
    "not implemented", "refused" or "unknown" (not an annotation of ingress-nginx).
    """
    by_field: dict[tuple[str, str, str], list[ManifestProblem]] = {}
    for problem in problems:
        by_field.setdefault((problem.namespace, problem.name, problem.field), []).append(problem)
    rows: list[dict[str, Any]] = []
    for ingress in resources.ingresses:
        meta = ingress.metadata
        annotations = []
        for name in sorted(meta.annotations):
            if not name.startswith(NGINX_PREFIX):
                continue
            short = name[len(NGINX_PREFIX) :]
            info = CATALOGUE.get(short)
            status = annotation_status(name) if info is not None else "unknown"
            found = by_field.get((meta.namespace, meta.name, f"metadata.annotations[{name}]"), [])
            annotations.append(
                {
                    "name": name,
                    "value": meta.annotations[name],
                    "status": status,
                    "doc": "" if info is None else info.doc,
                    "errors": [p.reason.removeprefix("error: ") for p in found
                               if p.reason.startswith("error:")],
                    "warnings": [p.reason.removeprefix("warning: ") for p in found
                                 if p.reason.startswith("warning:")],
                }
            )  # fmt: skip
        if annotations:
            rows.append(
                {
                    "ingress": f"{meta.namespace}/{meta.name}",
                    "annotations": annotations,
                    "routed": (meta.namespace, meta.name) not in refused,
                }
            )
    return rows


def _text(rows: list[dict[str, Any]], notes: list[str], out: TextIO) -> None:
    counts: Counter[str] = Counter()
    for row in rows:
        routed = "" if row["routed"] else " (not routed: its annotations are refused)"
        out.write(f"Ingress {row['ingress']}{routed}\n")
        for annotation in row["annotations"]:
            counts[annotation["status"]] += 1
            value = annotation["value"].replace("\n", "\\n")
            if len(value) > 60:
                value = value[:57] + "..."
            out.write(f"  {annotation['name']}={value!r}: {annotation['status']}\n")
            if annotation["doc"]:
                out.write(f"    {_first_sentence(annotation['doc'])}\n")
            for error in annotation["errors"]:
                out.write(f"    error: {error}\n")
            for warning in annotation["warnings"]:
                out.write(f"    warning: {warning}\n")
    for note in notes:
        out.write(f"note: {note}\n")
    total = sum(counts.values())
    summary = ", ".join(f"{counts[s]} {s}" for s in sorted(counts)) or "none"
    out.write(
        f"{len(rows)} Ingress(es) with ingress-nginx annotations; {total} annotation(s): "
        f"{summary}\n"
    )


def _first_sentence(text: str) -> str:
    sentence = text.split(". ", maxsplit=1)[0].rstrip(".")
    return sentence if len(sentence) <= 160 else sentence[:157] + "..."


async def _cluster_resources(kubeconfig: str, context: str | None) -> tuple[ResourceSet, list[str]]:
    """The Ingresses, IngressClasses, Services and Secrets of a cluster.

    Secrets (for `auth-secret`) may be forbidden to the user: the audit goes on without
    them, with a note.
    """
    from ingresslib.kubernetes._client import ApiConnection, HttpError  # noqa: PLC0415 -- the cluster extra, imported only for --kubeconfig

    connection = ApiConnection(kubeconfig, context=context)
    await connection.open()
    documents: list[dict[str, Any]] = []
    notes: list[str] = []
    try:
        for kind, api_version, plural in _READ_KINDS:
            prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                items, _ = await connection.list(f"{prefix}/{plural}", {}, timeout=60)
            except HttpError as error:
                if kind in ("Ingress", "IngressClass"):
                    raise RuntimeError(f"cannot list {plural}: {error}") from error
                notes.append(f"cannot list {plural} ({error}): audited without them")
                continue
            for item in items:
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", kind)
                documents.append(item)
    finally:
        await connection.close()
    return load_manifests(documents, unknown_kinds="ignore"), notes
