"""The annotation plugin API: Steps and Policies in decide(), the registry, nothing ignored."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest

from ingresslib import Request, RouteTable, load_manifests, testing
from ingresslib.ingress.annotations import CATALOGUE, annotation_status
from ingresslib.plugins import (
    NOTHING,
    PHASE_ACCESS,
    AnnotationContext,
    AnnotationPlugin,
    AnnotationPluginError,
    Contribution,
    register_annotation_plugin,
)
from ingresslib.plugins import _annotations as registry
from ingresslib.resources import Ingress, Secret
from ingresslib.rules import Answer, Policy, Step, StepState

PREFIX = "example.com/"


@attrs.frozen
class RequireHeader(Step):
    """Answers 401 unless the request has a header."""

    header: str

    def run(self, state: StepState) -> Answer | None:
        if state.header(self.header) is None:
            return Answer(401, headers=(("www-authenticate", "Token"),), reason="no token")
        state.upstream_path = "/checked" + state.upstream_path
        return None


@attrs.frozen
class Meter(Policy):
    """A policy for the executor; restricts access."""

    restricts_access = True
    key: str


@attrs.frozen
class SecretPlugin:
    """example.com/token (Step), example.com/meter (Policy), example.com/secret (reads it)."""

    name: str = "example.com/test"
    prefix: str = PREFIX
    annotations: frozenset[str] = frozenset({PREFIX + "token", PREFIX + "meter", PREFIX + "secret"})
    phase: int = PHASE_ACCESS
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        annotations = ingress.metadata.annotations
        filters: list[Step | Policy] = []
        if PREFIX + "token" in annotations:
            filters.append(RequireHeader(annotations[PREFIX + "token"]))
        if PREFIX + "meter" in annotations:
            filters.append(Meter(annotations[PREFIX + "meter"]))
        if PREFIX + "secret" in annotations:
            name = annotations[PREFIX + "secret"]
            namespace = ingress.metadata.namespace
            secret = context.secrets.get((namespace, name))
            reads = frozenset({("Secret", namespace, name)})
            if secret is None or b"open" not in secret.data.get("mode", b""):
                return Contribution(reads=reads, denied=f"Secret {name} does not say open")
            return Contribution(reads=reads)
        return Contribution(filters=tuple(filters)) if filters else NOTHING


@pytest.fixture
def plugin() -> Iterator[AnnotationPlugin]:
    plugin = SecretPlugin()
    register_annotation_plugin(plugin)
    try:
        yield plugin
    finally:
        registry._registry.pop(plugin.name, None)


def _table(annotations: dict[str, str], *extra: dict[str, object]) -> RouteTable:
    manifest = testing.ingress(
        "shop",
        [testing.ingress_rule("shop.example.com", ("/", "Prefix", "web"))],
        namespace="default",
        annotations=annotations,
    )
    return RouteTable.build(load_manifests([manifest, *extra]))


def test_a_step_answers_or_edits_the_request(plugin: AnnotationPlugin) -> None:
    del plugin
    table = _table({PREFIX + "token": "x-token"})
    refused = table.decide(Request(host="shop.example.com", path="/a"))
    assert (refused.action, refused.status, refused.reason) == ("respond", 401, "no token")
    assert refused.response_headers is not None
    assert refused.response_headers.set == (("www-authenticate", "Token"),)
    assert not refused.reusable, "the answer depends on a header"
    passed = table.decide(Request(host="shop.example.com", path="/a", headers=[("X-Token", "1")]))
    assert (passed.action, passed.path) == ("forward", "/checked/a")


def test_a_policy_is_passed_on_to_the_executor(plugin: AnnotationPlugin) -> None:
    del plugin
    decision = _table({PREFIX + "meter": "k"}).decide(Request(host="shop.example.com"))
    assert decision.action == "forward"
    assert decision.policies == (Meter("k"),)
    assert decision.policies[0].restricts_access


def test_a_changed_secret_recompiles_the_ingress_that_reads_it(plugin: AnnotationPlugin) -> None:
    del plugin
    closed: dict[str, object] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "default"},
        "stringData": {"mode": "shut"},
    }
    table = _table({PREFIX + "secret": "s"}, closed)
    assert table.decide(Request(host="shop.example.com")).status == 503
    (opened,) = load_manifests([{**closed, "stringData": {"mode": "open"}}]).of_kind(Secret)
    following = table.with_changes(upserted=[opened])
    assert following.decide(Request(host="shop.example.com")).action == "forward"
    assert (
        following.with_changes(deleted=[opened]).decide(Request(host="shop.example.com")).status
        == 503
    )


def test_an_unread_annotation_of_a_plugin_prefix_is_reported(plugin: AnnotationPlugin) -> None:
    del plugin
    table = _table({PREFIX + "typo": "1"})
    (problem,) = table.annotation_problems
    assert problem.field == "metadata.annotations[example.com/typo]"
    assert (problem.kind, problem.namespace, problem.name) == ("Ingress", "default", "shop")
    assert problem.reason.startswith("warning:")
    assert table.decide(Request(host="shop.example.com")).action == "forward"


def test_registration_refuses_non_plugins_and_taken_names(plugin: AnnotationPlugin) -> None:
    with pytest.raises(AnnotationPluginError, match="not an AnnotationPlugin"):
        register_annotation_plugin(object())  # type: ignore[arg-type]
    with pytest.raises(AnnotationPluginError, match="is registered"):
        register_annotation_plugin(plugin)
    register_annotation_plugin(plugin, replace=True)


def test_a_snippet_annotation_drops_the_ingress() -> None:
    table = _table({"nginx.ingress.kubernetes.io/configuration-snippet": "more_set_headers x;"})
    assert table.decide(Request(host="shop.example.com")).status == 404
    (problem,) = table.annotation_problems
    assert problem.reason.startswith("error: refused")
    assert annotation_status("configuration-snippet") == "refused"


def test_an_unimplemented_access_restriction_fails_closed() -> None:
    annotation = "nginx.ingress.kubernetes.io/auth-tls-secret"
    assert annotation_status(annotation) == "not implemented"
    assert CATALOGUE["auth-tls-secret"].restricts_access
    table = _table({annotation: "default/ca"})
    decision = table.decide(Request(host="shop.example.com"))
    assert (decision.action, decision.status) == ("respond", 503)
    (problem,) = table.annotation_problems
    assert problem.reason.startswith("error: not implemented")


def test_other_unimplemented_and_unknown_annotations_warn() -> None:
    table = _table(
        {
            "nginx.ingress.kubernetes.io/enable-access-log": "false",
            "nginx.ingress.kubernetes.io/no-such-annotation": "1",
            "other.example/anything": "ignored: no plugin claims this prefix",
        }
    )
    assert table.decide(Request(host="shop.example.com")).action == "forward"
    reasons = sorted(problem.reason for problem in table.annotation_problems)
    assert reasons == [
        "warning: not an annotation of ingress-nginx v1.15.1",
        "warning: not implemented: ignored",
    ]


def test_the_catalogue_lists_every_annotation_of_the_docs() -> None:
    # docs/user-guide/nginx-configuration/annotations.md lists 130; the parsers read also
    # the newer names (allowlist-source-range, limit-allowlist...) and a few undocumented.
    assert len(CATALOGUE) == 138
    assert {"rewrite-target", "auth-url", "whitelist-source-range", "limit-whitelist"} <= set(
        CATALOGUE
    )
    assert {info.name for info in CATALOGUE.values() if info.risk == "Critical"} == {
        "auth-snippet",
        "configuration-snippet",
        "modsecurity-snippet",
        "server-snippet",
        "stream-snippet",
    }


@pytest.mark.parametrize(
    ("value", "redirects", "warned"),
    [("false", False, False), ("False", False, False), ("0", False, False),
     ("true", True, False), ("nope", True, True)],
)  # fmt: skip
def test_ssl_redirect_reads_a_go_boolean(value: str, redirects: bool, warned: bool) -> None:
    manifest = testing.ingress(
        "shop",
        [testing.ingress_rule("shop.example.com", ("/", "Prefix", "web"))],
        namespace="default",
        tls=[testing.ingress_tls("cert", "shop.example.com")],
        annotations={"nginx.ingress.kubernetes.io/ssl-redirect": value},
    )
    table = RouteTable.build(load_manifests([manifest]))
    decision = table.decide(Request(host="shop.example.com"))
    assert (decision.action == "redirect") is redirects
    assert bool(table.annotation_problems) is warned


def test_server_aliases_follow_changes_of_their_host() -> None:
    def ingress(name: str, path: str, **annotations: str) -> Ingress:
        (loaded,) = load_manifests(
            [
                testing.ingress(
                    name,
                    [testing.ingress_rule("main.test", testing.ingress_path(path, "svc"))],
                    annotations={
                        f"nginx.ingress.kubernetes.io/{k}": v for k, v in annotations.items()
                    },
                    created="2024-01-01T00:00:00Z" if annotations else "2024-02-01T00:00:00Z",
                )
            ]
        ).ingresses
        return loaded

    aliased = ingress("aliased", "/a", **{"server-alias": "alias.test"})
    table = RouteTable.build([aliased])
    assert table.decide(Request(host="alias.test", path="/a")).action == "forward"
    assert table.decide(Request(host="alias.test", path="/b")).status == 404
    # Another Ingress of the host: the alias serves its path too, after an update.
    table = table.with_changes(upserted=[ingress("second", "/b")])
    assert table.decide(Request(host="alias.test", path="/b")).action == "forward"
    # The annotation removed: the alias is gone.
    table = table.with_changes(upserted=[ingress("aliased", "/a")])
    assert table.decide(Request(host="alias.test", path="/a")).status == 404
    assert table.decide(Request(host="main.test", path="/a")).action == "forward"
