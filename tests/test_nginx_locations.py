"""use-regex and rewrite-target against a plain model of nginx's own location selection.

The model writes the `location` lines ingress-nginx's template would write for a host's
Ingresses (controller/location.go `updateServerLocations`, template.go `buildLocation`
with the regex enforced, controller.go's two sorts) and selects among them as nginx does
for regex locations (ngx_http_core_find_location: in configuration order, the first
that matches; Python's `re`, a different engine from the RE2 ingresslib uses), then
applies `rewrite "(?i)<path>" <target> break;`. Hypothesis compares it with `decide()`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ingresslib import Request, RouteTable, load_manifests, testing

P = "nginx.ingress.kubernetes.io/"
HOST = "regex.test"

PLAIN_PATHS = ["/", "/foo", "/foo/", "/foo/bar", "/a", "/a.b", "/FOO", "/ab"]
REGEX_PATHS = ["/foo.+", "/foo/(.*)", "/(a|b)/(.*)", "/a[0-9]+", "/foo(/|$)(.*)", "/.*/bar", "/"]
TARGETS = ["/", "/new", "/$1", "/x/$2", "/$1/$2"]
SEGMENTS = ["foo", "FOO", "bar", "a", "b", "a1", "a.b", "ab", "x"]


def _template_locations(ingresses: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(regex, Ingress name, path index) for each `location ~* "^..."`, in nginx's order."""
    locations: list[tuple[str, str, str, int]] = []  # (path, type, ingress, index)
    for ingress in ingresses:
        for index, path in enumerate(ingress["spec"]["rules"][0]["http"]["paths"]):
            locations.append((path["path"], path["pathType"], ingress["metadata"]["name"], index))
    # createServers: a (path, pathType) an older Ingress has is not added again.
    seen: set[tuple[str, str]] = set()
    unique = []
    for location in locations:
        if (location[0], location[1]) not in seen:
            seen.add((location[0], location[1]))
            unique.append(location)
    flags = {i["metadata"]["name"]: _regex(i) for i in ingresses}
    exact = {path for path, kind, _, _ in unique if kind == "Exact"}
    updated: list[tuple[str, str, int]] = []
    for path, kind, name, index in unique:
        if path == "/" or kind != "Prefix" or flags[name]:
            updated.append((path, name, index))
            continue
        updated.append((path if path.endswith("/") else path + "/", name, index))
        if path not in exact:
            updated.append((path, name, index))
    updated.sort(key=lambda item: item[0].encode(), reverse=True)
    updated.sort(key=lambda item: len(item[0]), reverse=True)
    return updated


def _regex(ingress: dict[str, Any]) -> bool:
    annotations = ingress["metadata"].get("annotations", {})
    if annotations.get(P + "use-regex") == "true":
        return True
    target = annotations.get(P + "rewrite-target")
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    return bool(target) and any(path["path"] != target for path in paths)


def _expected(ingresses: list[dict[str, Any]], uri: str) -> tuple[str, int, str] | None:
    """(Ingress, path index, URI sent upstream) nginx chooses, or None (default backend)."""
    for path, name, index in _template_locations(ingresses):
        if re.match("^" + path, uri, re.IGNORECASE):
            ingress = next(i for i in ingresses if i["metadata"]["name"] == name)
            target = ingress["metadata"].get("annotations", {}).get(P + "rewrite-target")
            rule_path = ingress["spec"]["rules"][0]["http"]["paths"][index]["path"]
            if target and target != rule_path:
                found = re.search(rule_path, uri, re.IGNORECASE)
                if found is not None:
                    uri = _substitute(target, [found.group(0), *found.groups()])
            return name, index, uri
    return None


def _substitute(target: str, groups: list[str | None]) -> str:
    def group(found: re.Match[str]) -> str:
        number = int(found.group(1))
        return (groups[number] if number < len(groups) else None) or ""

    return re.sub(r"\$(\d)", group, target)


@st.composite
def hosts(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 3))
    ingresses = []
    for position in range(count):
        regex = draw(st.booleans()) if position else True  # one Ingress enforces the regex
        paths = []
        for _ in range(draw(st.integers(1, 3))):
            if regex and draw(st.booleans()):
                paths.append(("ImplementationSpecific", draw(st.sampled_from(REGEX_PATHS))))
            else:
                kind = draw(st.sampled_from(["Prefix", "Exact", "ImplementationSpecific"]))
                paths.append((kind, draw(st.sampled_from(PLAIN_PATHS))))
        annotations = {}
        if regex:
            if draw(st.booleans()):
                annotations[P + "use-regex"] = "true"
            if draw(st.booleans()) or not annotations:
                annotations[P + "rewrite-target"] = draw(st.sampled_from(TARGETS))
        ingresses.append(
            testing.ingress(
                f"ing{position}",
                [
                    testing.ingress_rule(
                        HOST,
                        *(testing.ingress_path(p, "svc", path_type=k) for k, p in paths),
                    )
                ],
                annotations=annotations,
                created=f"2024-01-0{position + 1}T00:00:00Z",
            )
        )
    return ingresses


uris = st.lists(st.sampled_from(SEGMENTS), min_size=0, max_size=3).map(
    lambda parts: "/" + "/".join(parts)
) | st.sampled_from(["/foo/", "/a/", "/foo/bar/"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ingresses=hosts(), uri=uris)
def test_regex_locations_and_rewrites_follow_nginx(
    ingresses: list[dict[str, Any]], uri: str
) -> None:
    # Without the regex enforced, ingresslib matches paths as the Ingress API says (tested
    # elsewhere against the API's own rules), not as nginx's prefix strings.
    assume(any(_regex(ingress) for ingress in ingresses))
    documents = [testing.service("svc"), *ingresses]
    table = RouteTable.build(load_manifests(yaml.safe_dump_all(documents)))
    decision = table.decide(Request(host=HOST, path=uri))
    expected = _expected(ingresses, uri)
    if expected is None:
        assert decision.action == "respond", decision
        assert decision.status == 404
        return
    name, index, upstream = expected
    assert decision.match is not None
    assert decision.match.rule is not None
    assert decision.match.rule.source.name == name, (decision.match, expected)
    assert decision.match.rule.field == f"spec.rules[0].http.paths[{index}]"
    if not upstream:
        assert decision.status == 500  # "the rewritten URI has a zero length"
    else:
        assert decision.action == "forward"
        assert decision.path == upstream
