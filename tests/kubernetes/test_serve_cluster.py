"""`ingresslib serve --kubeconfig`: the gateway follows a real kube-apiserver end to end.

The apiserver refuses EndpointSlice addresses on loopback ("may not be in the loopback range
(127.0.0.0/8, ::1/128)"), so the upstreams cannot listen on 127.0.0.1 as everywhere else in
the tests. The `endpoint_address` fixture adds 192.0.2.77 — TEST-NET-1 (RFC 5737), reserved
for documentation and never routed — to the loopback interface for the module's duration: the
traffic still never leaves the machine. Adding it needs CAP_NET_ADMIN (root, as in CI).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingresslib import testing
from tests.certificates import CA, leaf_der
from tests.kubernetes.conftest import GatewayAPICRDs, KubeAPIServer
from tests.serve_process import ROOT, ServeProcess, http_upstream
from tests.support import free_port

pytest.importorskip("kubernetes_asyncio")

DEPLOY = ROOT / "examples" / "deploy"
ALIAS = "192.0.2.77"  # TEST-NET-1 (RFC 5737)
STATUS_ADDRESS = "203.0.113.7"  # TEST-NET-3
TIMEOUT = 20.0

INGRESSES = "/apis/networking.k8s.io/v1/namespaces/{}/ingresses"
SERVICES = "/api/v1/namespaces/{}/services"
SLICES = "/apis/discovery.k8s.io/v1/namespaces/{}/endpointslices"
SECRETS = "/api/v1/namespaces/{}/secrets"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/{}/leases"


@pytest.fixture(scope="module")
def endpoint_address() -> Iterator[str]:
    """A local, non-loopback address the apiserver accepts in an EndpointSlice."""
    ip = shutil.which("ip") or ("/usr/sbin/ip" if Path("/usr/sbin/ip").exists() else None)
    if ip is None:
        pytest.skip(f"needs the ip command (iproute2) to add {ALIAS} to the loopback interface")
    added = subprocess.run(
        [ip, "addr", "add", f"{ALIAS}/32", "dev", "lo"], capture_output=True, text=True, check=False
    )
    if added.returncode != 0 and "File exists" not in added.stderr:
        pytest.skip(
            f"cannot add {ALIAS} to the loopback interface (needs CAP_NET_ADMIN; CI runs as "
            f"root): {added.stderr.strip()}"
        )
    try:
        yield ALIAS
    finally:
        if added.returncode == 0:
            subprocess.run([ip, "addr", "del", f"{ALIAS}/32", "dev", "lo"], check=False)


# --------------------------------------------------------------------------- objects


def service(name: str, port: int) -> dict[str, Any]:
    return testing.service(name, target_port=port)


def endpoint_slice(service_name: str, address: str, port: int) -> dict[str, Any]:
    return testing.endpoint_slice(service_name, [address], port=port)


def ingress(
    name: str, class_name: str, host: str, path: str, service_name: str, *, tls: str | None = None
) -> dict[str, Any]:
    return testing.ingress(
        name,
        [testing.ingress_rule(host, testing.ingress_path(path, service_name, port="http"))],
        ingress_class=class_name,
        tls=[testing.ingress_tls(tls, host)] if tls is not None else (),
    )


def call(server: KubeAPIServer, method: str, path: str, body: Any = None) -> dict[str, Any]:
    response = server.request(method, path, body)
    assert response.status in (200, 201), response
    result: dict[str, Any] = response.body
    return result


def replace(server: KubeAPIServer, path: str, change: Callable[[dict[str, Any]], None]) -> None:
    """GET, change and PUT an object (the PUT carries the resourceVersion read).

    A 409 means another writer (the gateway's status writer) updated the object in between:
    read it again and retry, as every Kubernetes client does with optimistic concurrency.
    """
    for _ in range(10):
        current = call(server, "GET", path)
        change(current)
        response = server.request("PUT", path, current)
        if response.status != 409:
            assert response.status == 200, response
            return
    raise AssertionError(f"PUT {path}: still conflicting after 10 attempts")


class Cluster:
    """The objects of one test: two upstream Services, a TLS Secret and three Ingresses."""

    def __init__(self, server: KubeAPIServer, namespace: str, address: str) -> None:
        self.server, self.namespace, self.address = server, namespace, address
        # examples/deploy/ingress-class.yaml, as `deployed` renamed it.
        self.class_name = f"ingresslib-{namespace}"
        self.controller = "ingresslib.dev/gateway"
        self.ca = CA()
        self.upstreams = {name: http_upstream(name, address) for name in ("alpha", "beta")}
        self.chain, key = self.ca.leaf("shop.test")
        for name in self.upstreams:
            self.post(SERVICES, service(name, self.port(name)))
            self.post(SLICES, endpoint_slice(name, address, self.port(name)))
        self.post(SECRETS, testing.tls_secret("shop-tls", self.chain, key))
        self.post(INGRESSES, ingress("api", self.class_name, "api.test", "/v1", "alpha"))
        shop = ingress("shop", self.class_name, "shop.test", "/", "beta", tls="shop-tls")
        self.post(INGRESSES, shop)
        # An Ingress of another class: never served, its status never written.
        self.post(INGRESSES, ingress("other", "someone-else", "other.test", "/", "alpha"))

    def port(self, name: str) -> int:
        return int(self.upstreams[name].server_address[1])

    def path(self, collection: str, name: str = "") -> str:
        base = collection.format(self.namespace)
        return f"{base}/{name}" if name else base

    def post(self, collection: str, body: dict[str, Any]) -> None:
        call(self.server, "POST", self.path(collection), body)

    def published(self, name: str) -> list[Any]:
        """`status.loadBalancer.ingress` of one Ingress."""
        obj = call(self.server, "GET", self.path(INGRESSES, name))
        return list(obj.get("status", {}).get("loadBalancer", {}).get("ingress") or [])

    def close(self) -> None:
        for server in self.upstreams.values():
            server.shutdown()
            server.server_close()


@pytest.fixture
def cluster(
    kube_apiserver: KubeAPIServer,
    namespace: str,
    endpoint_address: str,
    deployed: list[dict[str, Any]],
) -> Iterator[Cluster]:
    objects = Cluster(kube_apiserver, namespace, endpoint_address)
    try:
        yield objects
    finally:
        objects.close()


# --------------------------------------------------------------------------- examples/deploy

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "IngressClass"}


def deploy_objects(namespace: str) -> list[dict[str, Any]]:
    """examples/deploy/*.yaml, moved into `namespace` (cluster-scoped names get it as suffix)."""
    objects: list[dict[str, Any]] = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            if obj is None or obj["kind"] == "Namespace":
                continue
            if obj["kind"] in CLUSTER_SCOPED:
                obj["metadata"]["name"] += f"-{namespace}"
            else:
                obj["metadata"]["namespace"] = namespace
            if obj["kind"] == "ClusterRoleBinding":
                obj["roleRef"]["name"] += f"-{namespace}"
            for subject in obj.get("subjects", []):
                subject["namespace"] = namespace
            objects.append(obj)
    return objects


def collection(obj: dict[str, Any]) -> str:
    """The API path objects of this kind are created at."""
    group_version, kind = obj["apiVersion"], obj["kind"]
    plural = {"IngressClass": "ingressclasses", "Ingress": "ingresses"}.get(
        kind, f"{kind.lower()}s"
    )
    prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    namespace = obj["metadata"].get("namespace")
    return f"{prefix}/namespaces/{namespace}/{plural}" if namespace else f"{prefix}/{plural}"


def service_account_kubeconfig(server: KubeAPIServer, namespace: str, path: Path) -> Path:
    """A kubeconfig authenticating as the gateway's ServiceAccount (a TokenRequest token)."""
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": 3600},
    }
    token_path = f"/api/v1/namespaces/{namespace}/serviceaccounts/ingresslib/token"
    token = call(server, "POST", token_path, request)["status"]["token"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "test",
                "cluster": {"server": server.url, "certificate-authority": str(server.ca_cert)},
            }
        ],
        "users": [{"name": "ingresslib", "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "ingresslib"}}],
        "current-context": "test",
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def deployed(kube_apiserver: KubeAPIServer, namespace: str) -> Iterator[list[dict[str, Any]]]:
    """examples/deploy applied in `namespace` (the Deployment is stored, not run: there is no
    scheduler nor kubelet); yields the objects created."""
    objects = deploy_objects(namespace)
    for obj in objects:
        call(kube_apiserver, "POST", collection(obj), obj)
    try:
        yield objects
    finally:
        for obj in objects:
            if obj["kind"] in CLUSTER_SCOPED:
                kube_apiserver.request("DELETE", f"{collection(obj)}/{obj['metadata']['name']}")


def start_gateway(cluster: Cluster, tmp_path: Path, *status: str) -> ServeProcess:
    """`ingresslib serve` as the ServiceAccount of examples/deploy, with its RBAC rules only."""
    kubeconfig = service_account_kubeconfig(
        cluster.server, cluster.namespace, tmp_path / "kubeconfig"
    )
    return ServeProcess(
        tmp_path / "serve.log",
        f"--kubeconfig={kubeconfig}",
        f"--controller={cluster.controller}",
        f"--watch-namespace={cluster.namespace}",
        *status,
        f"--election-namespace={cluster.namespace}",
        f"--election-id=gateway-{cluster.namespace}",
        cadata=cluster.ca.pem.decode(),
        ready_timeout=TIMEOUT,
    )


@pytest.fixture
def gateway(cluster: Cluster, tmp_path: Path) -> Iterator[ServeProcess]:
    process = start_gateway(cluster, tmp_path, f"--publish-status-address={STATUS_ADDRESS}")
    try:
        assert process.get("-", "/readyz", process.admin)[::2] == (200, "ready\n")
        yield process
    finally:
        process.stop()


def test_serve_routes_the_cluster_and_follows_its_changes(
    cluster: Cluster, gateway: ServeProcess
) -> None:
    # Routing from the cluster's objects, to EndpointSlice addresses.
    assert gateway.get("api.test", "/v1/items?a=1")[::2] == (200, "alpha /v1/items?a=1\n")
    assert gateway.get("other.test", "/")[0] == 404
    status, body, der = gateway.get_tls("shop.test", "/cart")
    assert (status, body, der) == (200, "beta /cart\n", leaf_der(cluster.chain))
    assert gateway.get("shop.test", "/cart")[0] == 308  # plain HTTP to a TLS host

    # An Ingress update re-routes.
    def to_beta(obj: dict[str, Any]) -> None:
        obj["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "beta"

    replace(cluster.server, cluster.path(INGRESSES, "api"), to_beta)
    gateway.wait_for(
        lambda: gateway.get("api.test", "/v1/x")[2] == "beta /v1/x\n", "update", TIMEOUT
    )

    # EndpointSlice changes reach the endpoint sets.
    call(cluster.server, "DELETE", cluster.path(SLICES, "beta-1"))
    gateway.wait_for(lambda: gateway.get("api.test", "/v1/x")[0] == 503, "no endpoints", TIMEOUT)
    cluster.post(SLICES, endpoint_slice("beta", cluster.address, cluster.port("beta")))
    gateway.wait_for(lambda: gateway.get("api.test", "/v1/x")[0] == 200, "endpoints back", TIMEOUT)

    # A Secret update rotates the certificate served by SNI.
    chain, key = cluster.ca.leaf("shop.test")

    def rotate(obj: dict[str, Any]) -> None:
        obj["data"] = testing.tls_secret("shop-tls", chain, key)["data"]

    replace(cluster.server, cluster.path(SECRETS, "shop-tls"), rotate)
    gateway.wait_for(
        lambda: gateway.get_tls("shop.test", "/")[2] == leaf_der(chain), "rotation", TIMEOUT
    )

    # A deleted Ingress stops routing.
    call(cluster.server, "DELETE", cluster.path(INGRESSES, "api"))
    gateway.wait_for(lambda: gateway.get("api.test", "/v1/x")[0] == 404, "delete", TIMEOUT)
    assert gateway.process.poll() is None


def test_serve_writes_status_as_leader_and_releases_the_lease(
    cluster: Cluster, gateway: ServeProcess
) -> None:
    mine = [{"ip": STATUS_ADDRESS}]
    gateway.wait_for(
        lambda: cluster.published("api") == mine and cluster.published("shop") == mine,
        "status written",
        TIMEOUT,
    )
    assert cluster.published("other") == []
    lease_path = f"{LEASES.format(cluster.namespace)}/gateway-{cluster.namespace}"
    assert call(cluster.server, "GET", lease_path)["spec"]["holderIdentity"]
    assert gateway.stop() == 0, gateway.output()
    assert "Traceback" not in gateway.output()
    # Handed back at shutdown, so that another replica takes over at once.
    assert not call(cluster.server, "GET", lease_path)["spec"].get("holderIdentity")


def test_serve_publishes_the_addresses_of_its_service(cluster: Cluster, tmp_path: Path) -> None:
    # examples/deploy's LoadBalancer Service: no cloud here, so the test plays the load
    # balancer controller and writes its status.
    lb_status = f"{SERVICES.format(cluster.namespace)}/ingresslib/status"

    def load_balancer(*entries: dict[str, str]) -> None:
        def change(obj: dict[str, Any]) -> None:
            obj["status"] = {"loadBalancer": {"ingress": list(entries)}}

        replace(cluster.server, lb_status, change)

    # Someone else's entry on one Ingress: publish-service owns the status, as ingress-nginx.
    def foreign(obj: dict[str, Any]) -> None:
        obj["status"] = {"loadBalancer": {"ingress": [{"ip": "198.51.100.9"}]}}

    replace(cluster.server, f"{cluster.path(INGRESSES, 'api')}/status", foreign)
    load_balancer({"ip": "203.0.113.20"})
    gateway = start_gateway(cluster, tmp_path, f"--publish-service={cluster.namespace}/ingresslib")
    try:
        first = [{"ip": "203.0.113.20"}]
        gateway.wait_for(
            lambda: cluster.published("api") == first and cluster.published("shop") == first,
            "the load balancer's address published",
            TIMEOUT,
        )
        # The load balancer's address changes: the old one is replaced, not kept.
        load_balancer({"hostname": "lb.example.test"})
        second = [{"hostname": "lb.example.test"}]
        gateway.wait_for(
            lambda: cluster.published("api") == second and cluster.published("shop") == second,
            "the new address replacing the old",
            TIMEOUT,
        )
        assert cluster.published("other") == []
    finally:
        assert gateway.stop() == 0, gateway.output()


def test_serve_with_an_unreadable_kubeconfig_exits_1(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-kubeconfig"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ingresslib",
            "serve",
            f"--kubeconfig={missing}",
            "--tls-listen=off",
            "--admin-listen=off",
            f"--listen=127.0.0.1:{free_port()}",
        ],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "cannot load the cluster configuration" in result.stderr
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "nothing to serve"),
        (["manifests/", "--kubeconfig=k"], "not both"),
        (["--kubeconfig=k", "--in-cluster"], "exclude each other"),
        (["manifests/", "--watch-namespace=a"], "--watch-namespace need --kubeconfig"),
        (
            ["--kubeconfig=k", "--publish-service=a/b", "--publish-status-address=1.2.3.4"],
            "exclude each other",
        ),
    ],
)
def test_serve_source_usage_errors_exit_2(arguments: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ingresslib", "serve", *arguments],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


# --------------------------------------------------------------------------- Gateway API

GATEWAY_GROUP = "gateway.networking.k8s.io"


def test_serve_a_gateway_from_the_cluster_and_write_its_status(
    gateway_api: GatewayAPICRDs, cluster: Cluster, tmp_path: Path
) -> None:
    # `serve --gateway` from a cluster, as the ServiceAccount of examples/deploy (its RBAC
    # rules only): the Gateway's listener serves its HTTPRoute, and the leader writes the
    # Gateway API status of our class.
    ns = cluster.namespace
    server = cluster.server
    class_name = f"gw-{ns}"
    call(
        server,
        "POST",
        f"/apis/{GATEWAY_GROUP}/v1/gatewayclasses",
        {
            "apiVersion": f"{GATEWAY_GROUP}/v1",
            "kind": "GatewayClass",
            "metadata": {"name": class_name},
            "spec": {"controllerName": cluster.controller},
        },
    )
    call(
        server,
        "POST",
        f"/apis/{GATEWAY_GROUP}/v1/namespaces/{ns}/gateways",
        {
            "apiVersion": f"{GATEWAY_GROUP}/v1",
            "kind": "Gateway",
            "metadata": {"name": "edge"},
            "spec": {
                "gatewayClassName": class_name,
                "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
            },
        },
    )
    call(
        server,
        "POST",
        f"/apis/{GATEWAY_GROUP}/v1/namespaces/{ns}/httproutes",
        {
            "apiVersion": f"{GATEWAY_GROUP}/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "api"},
            "spec": {
                "parentRefs": [{"name": "edge"}],
                "hostnames": ["gw.test"],
                "rules": [{"backendRefs": [{"name": "alpha", "port": 80}]}],
            },
        },
    )
    kubeconfig = service_account_kubeconfig(server, ns, tmp_path / "kubeconfig")
    local = free_port()
    process = ServeProcess(
        tmp_path / "serve.log",
        f"--kubeconfig={kubeconfig}",
        f"--controller={cluster.controller}",
        f"--watch-namespace={ns}",
        f"--gateway={ns}/edge",
        f"--listener-port=80={local}",
        f"--election-namespace={ns}",
        f"--election-id=gateway-{ns}",
        "--allow-loopback-endpoints",
        ready_timeout=TIMEOUT,
    )
    try:
        assert process.get("gw.test", "/x", local)[::2] == (200, "alpha /x\n")
        assert process.get("other.test", "/x", local)[0] == 404

        def accepted() -> bool:
            route = call(server, "GET", f"/apis/{GATEWAY_GROUP}/v1/namespaces/{ns}/httproutes/api")
            parents = route.get("status", {}).get("parents") or []
            return any(
                p["controllerName"] == cluster.controller
                and {c["type"]: c["status"] for c in p["conditions"]}.get("Accepted") == "True"
                for p in parents
            )

        process.wait_for(accepted, "the route's status", TIMEOUT)
        gw = call(server, "GET", f"/apis/{GATEWAY_GROUP}/v1/namespaces/{ns}/gateways/edge")
        conditions = {c["type"]: c["status"] for c in gw["status"]["conditions"]}
        assert conditions == {"Accepted": "True", "Programmed": "True"}
        assert [(i["name"], i["attachedRoutes"]) for i in gw["status"]["listeners"]] == [
            ("http", 1)
        ]
    finally:
        assert process.stop() == 0, process.output()
    assert "Traceback" not in process.output()
