"""A plain reference router: Ingress routing as docs/semantics.md says it, read literally.

No index, no trie, no cleverness: every request loops over every rule and every path of
every Ingress. It is slow on purpose and exists only to be compared with `RouteTable`
(ingresslib's own tests compare them on random tables and requests with Hypothesis; users'
tests can do the same for their manifests).

What it implements (library use: no class selection, ImplementationSpecific = "prefix"):

- Hosts: the request host is compared case-insensitively, a `:port` suffix is ignored
  (`[::1]:80` -> `[::1]`), one trailing dot is dropped; None and "" mean "no host".
  Virtual host: the rules whose host equals the request host; else, for a request
  `x.<parent>`, the rules whose host is `*.<parent>`; else the rules without a host;
  else none.
- Paths (among the chosen host's rules, merged across Ingresses): Exact is whole-path
  equality; Prefix (and ImplementationSpecific) compares '/'-separated elements, trailing
  empty elements ignored on both sides. A request path not starting with '/' matches
  nothing; "" is "/". The longest rule path wins (Prefix-like lengths without trailing
  slashes); on equal length Exact beats Prefix; identical claims go to the oldest
  Ingress (no timestamp = newest), then (namespace, name), then rule/path order.
- Default backends: host-default (oldest Ingress with rules for the chosen host and a
  defaultBackend), else the controller default, else nothing; without a virtual host:
  the oldest Ingress with a defaultBackend ("default"), else the controller default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ingresslib.resources import Ingress, IngressBackend
from ingresslib.routing import RouteMatch

__all__ = [
    "Outcome",
    "normalize_request_host",
    "outcome_of",
    "reference_match",
    "reference_vhost",
]


class Outcome(NamedTuple):
    """A routing decision in a comparable form."""

    backend: str
    ingress: tuple[str, str] | None
    matched_by: str
    path: str | None
    path_type: str | None


def outcome_of(match: RouteMatch | None) -> Outcome | None:
    """The comparable form of what `RouteTable.match` returned."""
    if match is None:
        return None
    ingress = match.ingress
    return Outcome(
        backend=match.backend.describe(),
        ingress=None if ingress is None else (ingress.metadata.namespace, ingress.metadata.name),
        matched_by=match.matched_by,
        path=match.path,
        path_type=match.path_type,
    )


def normalize_request_host(host: str | None) -> str:
    """ASCII lower-case, `:port` removed, one trailing dot removed; "" for no host."""
    if host is None or host == "":
        return ""
    if host.startswith("["):
        # An IPv6 literal: the port comes after the closing bracket.
        end = host.find("]")
        if end >= 0:
            host = host[: end + 1]
    elif ":" in host:
        host = host[: host.index(":")]
    if host.endswith("."):
        host = host[:-1]
    # Only A-Z fold (as nginx folds): "\u212a" (KELVIN SIGN) is not "k".
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in host)


def _age(ingress: Ingress) -> tuple[object, ...]:
    """Oldest first; an Ingress without a creationTimestamp is newer than any with one."""
    created = ingress.metadata.creation_timestamp
    if created is None:
        return (1, ingress.metadata.namespace, ingress.metadata.name)
    return (0, created, ingress.metadata.namespace, ingress.metadata.name)


def _oldest_first(ingresses: Iterable[object]) -> list[Ingress]:
    return sorted((i for i in ingresses if isinstance(i, Ingress)), key=_age)


def _key(ingress: Ingress) -> tuple[str, str]:
    return (ingress.metadata.namespace, ingress.metadata.name)


def reference_vhost(ingresses: Iterable[object], host: str | None) -> str | None:
    """The rule host that claims a request for `host` ("" = rules without host), or None."""
    rule_hosts = [rule.host.lower() for i in _oldest_first(ingresses) for rule in i.spec.rules]
    name = normalize_request_host(host)
    if name != "" and name in rule_hosts:
        return name
    first_label, dot, parent = name.partition(".")
    if first_label != "" and dot == "." and parent != "" and "*." + parent in rule_hosts:
        return "*." + parent
    if "" in rule_hosts:
        return ""
    return None


def _elements(path: str) -> list[str]:
    """'/a/b/' -> ['a', 'b']; '/' -> []; trailing empty elements dropped."""
    elements = path.split("/")[1:]
    while elements and elements[-1] == "":
        elements.pop()
    return elements


def _path_matches(path_type: str, rule_path: str, request_path: str) -> bool:
    if not request_path.startswith("/"):
        return False
    if path_type == "Exact":
        return request_path == rule_path
    # Prefix, and ImplementationSpecific with the default "prefix" matcher.
    rule_elements = _elements(rule_path)
    request_elements = _elements(request_path)
    return request_elements[: len(rule_elements)] == rule_elements


def _rank_length(path_type: str, rule_path: str) -> int:
    if path_type == "Exact":
        return len(rule_path)
    return len(rule_path.rstrip("/") or "/")


def reference_match(
    ingresses: Iterable[object],
    host: str | None,
    path: str,
    default_backend: IngressBackend | None = None,
) -> Outcome | None:
    """Route one request through `ingresses` the slow, obvious way."""
    ordered = _oldest_first(ingresses)
    controller_default = (
        None
        if default_backend is None
        else Outcome(default_backend.describe(), None, "controller-default", None, None)
    )
    vhost = reference_vhost(ordered, host)

    if vhost is None:
        for ingress in ordered:
            if ingress.spec.default_backend is not None:
                return Outcome(
                    ingress.spec.default_backend.describe(), _key(ingress), "default", None, None
                )
        return controller_default

    request_path = path if path != "" else "/"
    # Every matching rule path of the virtual host, with how it ranks and its age order.
    candidates = []
    for age, ingress in enumerate(ordered):
        for rule_index, rule in enumerate(ingress.spec.rules):
            if rule.host.lower() != vhost or rule.http is None:
                continue
            for path_index, http_path in enumerate(rule.http.paths):
                path_type = http_path.path_type or ""
                rule_path = http_path.path if http_path.path != "" else "/"
                if _path_matches(path_type, rule_path, request_path):
                    rank = (_rank_length(path_type, rule_path), path_type == "Exact")
                    order = (age, rule_index, path_index)
                    candidates.append((rank, order, ingress, http_path))
    if candidates:
        best_rank = max(rank for rank, _, _, _ in candidates)
        winners = [c for c in candidates if c[0] == best_rank]
        _, _, ingress, http_path = min(winners, key=lambda c: c[1])
        return Outcome(
            http_path.backend.describe(),
            _key(ingress),
            "path",
            http_path.path,
            http_path.path_type,
        )

    for ingress in ordered:
        has_rules_for_host = any(rule.host.lower() == vhost for rule in ingress.spec.rules)
        if has_rules_for_host and ingress.spec.default_backend is not None:
            return Outcome(
                ingress.spec.default_backend.describe(), _key(ingress), "host-default", None, None
            )
    return controller_default
