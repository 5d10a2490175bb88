"""`ingresslib check PATH...`: validate manifests as the kube-apiserver would, summarise, lint.

For Gateway API resources it also prints the status a controller would write
(`ingresslib.gateway_status`): the conditions of each GatewayClass and Gateway of our classes,
of each listener (with `attachedRoutes`), and of each route per parent. Every abnormal
condition of a Gateway, listener or route (False; True for `Conflicted`) is also a
`warning:` line, as are references to Gateways or GatewayClasses that do not exist: a route
that cannot attach is never dropped silently. Status problems are findings: the exit
status is 0 whenever the manifests load — unless an annotation is in error.

The annotations of the Ingresses are checked by the annotation plugins
(`ingresslib.ingress.annotations`): every problem is an `error:` or `warning:` line naming
the Ingress and the annotation (`metadata.annotations[...]`). An error means the Ingress
is not routed (a refused snippet, a value ingress-nginx's validator rejects) or its paths
answer 503 (an access restriction that cannot be applied): then the exit status is 1.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import TextIO

from ingresslib.cli._gateway import (
    abnormal,
    condition_text,
    conditions_text,
    listener_text,
    parent_text,
)
from ingresslib.cli._tables import add_table_options, gateway_key, gateway_table, load
from ingresslib.gatewayapi import GatewayStatusReport, gateway_status
from ingresslib.resources import (
    GROUP,
    Gateway,
    GatewayClass,
    GRPCRoute,
    HTTPRoute,
    ReferenceGrant,
    ResourceSet,
)
from ingresslib.routing import lint
from ingresslib.tls import CertificateStore, certificate_sources

__all__ = ["add_parser", "run"]

_GATEWAY_KINDS = (GatewayClass, Gateway, HTTPRoute, GRPCRoute, ReferenceGrant)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ingresslib check PATH...`."""
    check = commands.add_parser(
        "check",
        help="validate manifests as the kube-apiserver would, summarise and lint them; "
        "print the Gateway API status they would get",
    )
    check.add_argument("paths", nargs="+", help="manifest files or directories")
    add_table_options(check)
    check.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Validate, summarise and lint; 0 when the manifests load, else 1."""
    # The Ingress table: `--gateway` only narrows the Gateway API status.
    loaded = load(args, err, gateway=False)
    if loaded is None:
        return 1
    resources, table = loaded
    gateway_api = _gateway_api(resources, args, err)
    if gateway_api is None:
        return 1
    status, findings = gateway_api
    _summary(resources, out)
    out.write(f"  routes: {len(table)} across {sum(1 for _ in table.virtual_hosts())} host(s)\n")
    out.writelines(status)
    for skipped in resources.skipped:
        out.write(f"warning: {skipped}\n")
    for finding in lint(table, resources):
        out.write(f"warning: {finding}\n")
    # What `serve` would do with the TLS sections of the Ingresses it routes: a missing,
    # malformed, mismatched or expired certificate is reported; other hosts are unaffected.
    certificates = CertificateStore.build(certificate_sources(table, resources))
    for problem in certificates.problems:
        out.write(f"warning: certificate: {problem}\n")
    for gateway_finding in findings:
        out.write(f"warning: {gateway_finding}\n")
    errors = 0
    for annotation in table.annotation_problems:
        severity, _, reason = annotation.reason.partition(": ")
        errors += severity == "error"
        out.write(f"{severity}: {annotation.object_ref}: {annotation.field}: {reason}\n")
    for ingress, why in table.refused_ingresses:
        out.write(f"error: {ingress.ref}: not routed: {why}\n")
    return 1 if errors or table.refused_ingresses else 0


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
    for resource in resources:
        if isinstance(resource, _GATEWAY_KINDS):
            out.write(f"  {resource.ref}: {_gateway_summary(resource)}\n")


def _gateway_summary(
    resource: GatewayClass | Gateway | HTTPRoute | GRPCRoute | ReferenceGrant,
) -> str:
    if isinstance(resource, GatewayClass):
        return f"controller={resource.spec.controller_name}"
    if isinstance(resource, Gateway):
        listeners = ", ".join(
            f"{listener.name} ({listener.protocol} :{listener.port}"
            + (f" {listener.hostname}" if listener.hostname else "")
            + ")"
            for listener in resource.spec.listeners
        )
        return f"class={resource.spec.gateway_class_name}; listeners={listeners or '-'}"
    if isinstance(resource, ReferenceGrant):
        sources = ",".join(f"{f.kind} in {f.namespace}" for f in resource.spec.from_)
        targets = ",".join(f"{t.kind}" + (f" {t.name}" if t.name else "") for t in resource.spec.to)
        return f"from={sources or '-'}; to={targets or '-'}"
    namespace = resource.metadata.namespace
    spec = resource.spec
    details = [f"{len(spec.rules)} rule(s)"]
    if spec.hostnames:
        details.append("hostnames=" + ",".join(spec.hostnames))
    parents = ",".join(parent_text(ref, namespace) for ref in spec.parent_refs)
    details.append(f"parentRefs={parents or '-'}")
    return "; ".join(details)


def _gateway_api(
    resources: ResourceSet, args: argparse.Namespace, err: TextIO
) -> tuple[list[str], list[str]] | None:
    """The status lines and the findings of the Gateway API resources.

    None (the error written) when `--gateway` names no Gateway we serve, or a route rule
    of a Gateway we serve cannot be compiled (the table `serve` would build fails).
    """
    key = gateway_key(args)
    if key is not None and gateway_table(resources, key, args, err) is None:
        return None
    if not any(isinstance(r, _GATEWAY_KINDS) for r in resources):
        return [], []
    report = gateway_status(resources, controller=args.controller)
    selected = sorted(report.attachments)
    if key is not None:
        namespace, _, name = key.partition("/")
        selected = [k for k in selected if k == (namespace, name)]
    for namespace, name in selected:
        if gateway_table(resources, f"{namespace}/{name}", args, err) is None:
            return None
    lines: list[str] = []
    findings: list[str] = []
    _status(report, resources, selected, lines, findings)
    who = f"controller {args.controller}" if args.controller else "every GatewayClass"
    status = [f"status ({who}):\n", *(f"  {line}\n" for line in lines)]
    if not lines:
        status = [f"status ({who}): no Gateway of these classes\n"]
    findings.extend(_dangling(resources, key))
    return status, findings


def _status(
    report: GatewayStatusReport,
    resources: ResourceSet,
    selected: list[tuple[str, str]],
    lines: list[str],
    findings: list[str],
) -> None:
    class_names = {report.attachments[key].gateway.spec.gateway_class_name for key in selected}
    for name in sorted(class_names):
        conditions = report.conditions("GatewayClass", "", name)
        if conditions:
            lines.append(f"GatewayClass {name}: {conditions_text(conditions)}")
            findings.extend(
                f"GatewayClass {name}: {condition_text(c)}" for c in conditions if abnormal(c)
            )
    for namespace, name in selected:
        ref = f"Gateway {namespace}/{name}"
        conditions = report.conditions("Gateway", namespace, name)
        lines.append(f"{ref}: {conditions_text(conditions)}")
        findings.extend(f"{ref}: {condition_text(c)}" for c in conditions if abnormal(c))
        for state in report.attachments[(namespace, name)].listeners:
            conditions = report.listener_conditions(namespace, name, state.name)
            attached = report.attached_routes(namespace, name, state.name)
            lines.append(
                f"  listener {state.name} ({listener_text(state)}): "
                f"{conditions_text(conditions)} attachedRoutes={attached}"
            )
            findings.extend(
                f"{ref}: {state.field} (listener {state.name}): {condition_text(c)}"
                for c in conditions
                if abnormal(c)
            )
    routes: tuple[HTTPRoute | GRPCRoute, ...] = (*resources.http_routes, *resources.grpc_routes)
    for route in routes:
        meta = route.metadata
        for parent in report.route_parents(route.kind, meta.namespace, meta.name):
            gw_namespace, gw_name, section = parent
            if (gw_namespace, gw_name) not in selected:
                continue
            conditions = report.route_conditions(
                route.kind, meta.namespace, meta.name, parent=parent
            )
            index = next(
                (
                    entry.index
                    for entry in report.attachments[(gw_namespace, gw_name)].parents
                    if entry.route is route and entry.parent_ref.section_name == section
                ),
                None,
            )
            target = f"{gw_namespace}/{gw_name}" + (f" section={section}" if section else "")
            lines.append(f"{route.ref} -> {target}: {conditions_text(conditions)}")
            field = "" if index is None else f"spec.parentRefs[{index}] "
            findings.extend(
                f"{route.ref}: {field}-> {target}: {condition_text(c)}"
                for c in conditions
                if abnormal(c)
            )


def _dangling(resources: ResourceSet, key: str | None) -> list[str]:
    """References that no status will ever report: missing Gateways and GatewayClasses.

    A Gateway whose GatewayClass does not exist gets no status from any controller, nor do
    the routes whose parentRefs name a Gateway that does not exist: they are reported here,
    not left out.
    """
    findings = []
    classes = {c.metadata.name for c in resources.gateway_classes}
    gateways = {(g.metadata.namespace, g.metadata.name) for g in resources.gateways}
    for gateway in resources.gateways:
        name = gateway.spec.gateway_class_name
        own = f"{gateway.metadata.namespace}/{gateway.metadata.name}"
        if name not in classes and (key is None or key == own):
            findings.append(
                f"{gateway.ref}: spec.gatewayClassName: GatewayClass {name!r} does not exist"
                " (the Gateway is not served and gets no status)"
            )
    if key is not None:
        return findings
    routes: tuple[HTTPRoute | GRPCRoute, ...] = (*resources.http_routes, *resources.grpc_routes)
    for route in routes:
        namespace = route.metadata.namespace
        for index, ref in enumerate(route.spec.parent_refs):
            where = f"{route.ref}: spec.parentRefs[{index}]"
            if ref.group != GROUP or ref.kind != "Gateway":
                group = f"{ref.group}/" if ref.group else ""
                findings.append(
                    f"{where}: ingresslib attaches routes to Gateways only, not to "
                    f"{group}{ref.kind} {ref.name}"
                )
            elif (ref.namespace or namespace, ref.name) not in gateways:
                findings.append(
                    f"{where}: Gateway {ref.namespace or namespace}/{ref.name} does not exist "
                    "(the route is not attached there)"
                )
    return findings
