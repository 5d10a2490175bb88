"""A real kube-apiserver and etcd for the Kubernetes tests, started the way envtest starts them.

`kube_apiserver` (session): one etcd and one kube-apiserver on free 127.0.0.1 ports, in a
temporary directory that also holds a CA, the serving and admin client certificates, the
service-account key pair, a kubeconfig and both processes' logs. Tests may stop, restart and
reconfigure the apiserver and compact etcd through it; teardown stops both and removes the
directory (kept when INGRESSLIB_K8S_KEEP=1).

The binaries come from scripts/k8s-fixtures.sh: $INGRESSLIB_K8S_BIN, else
${XDG_CACHE_HOME:-~/.cache}/ingresslib/k8s/<k8s version>. Without them the tests skip, with the
reason shown by `-ra`; in CI (`CI` set) they fail instead.

`gateway_api` (function, over the session-scoped `gateway_api_crds`): the Gateway API CRDs of
the standard channel, from scripts/gateway-api-crds.sh ($INGRESSLIB_GATEWAY_API_CRDS, else
${XDG_CACHE_HOME:-~/.cache}/ingresslib/gateway-api/<version>), installed into that apiserver
the first time a test asks for them and left there; `without_gateway_api` removes them for a
test that needs a cluster without them. Only the tests that name these fixtures pay for them.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import http.client
import ipaddress
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "scripts/k8s-fixtures.sh"
# Inputs of the build key; keep in step with KEY_FILES in scripts/k8s-fixtures.sh.
KEY_FILES = (
    "tools/kube-apiserver/go.mod",
    "tools/kube-apiserver/go.sum",
    "tools/etcd/go.mod",
    "tools/etcd/go.sum",
    "tools/etcd/main.go",
)
READY_TIMEOUT = 60.0
GATEWAY_API_SCRIPT = "scripts/gateway-api-crds.sh"
# Inputs of the CRD copy's key; keep in step with KEY_FILES in scripts/gateway-api-crds.sh.
GATEWAY_API_KEY_FILES = ("tools/gateway-api/go.mod", "tools/gateway-api/go.sum")
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


# --------------------------------------------------------------------------- binaries


def _required_version(go_mod: Path, module: str) -> str:
    match = re.search(
        rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", go_mod.read_text(), re.MULTILINE
    )
    if match is None:
        raise RuntimeError(f"{go_mod} does not require {module}")
    return match.group(1)


def k8s_version() -> str:
    """The k8s.io/kubernetes version pinned in tools/kube-apiserver/go.mod."""
    return _required_version(ROOT / "tools/kube-apiserver/go.mod", "k8s.io/kubernetes")


def etcd_version() -> str:
    """The go.etcd.io/etcd/server/v3 version pinned in tools/etcd/go.mod."""
    return _required_version(ROOT / "tools/etcd/go.mod", "go.etcd.io/etcd/server/v3")


def build_key() -> str:
    """The key scripts/k8s-fixtures.sh writes to build.key beside the binaries it built."""
    lines = [f"kube-apiserver {k8s_version()}", f"etcd {etcd_version()}"]
    for name in KEY_FILES:
        lines += [name, hashlib.sha256((ROOT / name).read_bytes()).hexdigest()]
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


def binary_dir() -> Path:
    """Where scripts/k8s-fixtures.sh puts the binaries (same rule as the script)."""
    if os.environ.get("INGRESSLIB_K8S_BIN"):
        return Path(os.environ["INGRESSLIB_K8S_BIN"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ingresslib" / "k8s" / k8s_version()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the Kubernetes tests must run here)", pytrace=False)
    pytest.skip(reason)


def _find_binaries() -> Path:
    directory = binary_dir()
    for name in ("kube-apiserver", "etcd"):
        if not os.access(directory / name, os.X_OK):
            _unavailable(f"{name} not built: run {SCRIPT}")
    key_file = directory / "build.key"
    # A directory named by INGRESSLIB_K8S_BIN without build.key holds binaries of the user's own.
    if key_file.exists() or "INGRESSLIB_K8S_BIN" not in os.environ:
        built = key_file.read_text().strip() if key_file.exists() else "(none)"
        if built != build_key():
            _unavailable(
                f"kube-apiserver in {directory} is stale (tools/ changed since it was built):"
                f" run {SCRIPT}"
            )
    return directory


# --------------------------------------------------------------------------- Gateway API CRDs


def gateway_api_version() -> str:
    """The sigs.k8s.io/gateway-api version pinned in tools/gateway-api/go.mod."""
    return _required_version(ROOT / "tools/gateway-api/go.mod", "sigs.k8s.io/gateway-api")


def gateway_api_key() -> str:
    """The key scripts/gateway-api-crds.sh writes to crds.key beside the CRDs it copied."""
    lines = [f"gateway-api {gateway_api_version()}"]
    for name in GATEWAY_API_KEY_FILES:
        lines += [name, hashlib.sha256((ROOT / name).read_bytes()).hexdigest()]
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


def gateway_api_crd_dir() -> Path:
    """Where scripts/gateway-api-crds.sh copies the CRDs (same rule as the script)."""
    if os.environ.get("INGRESSLIB_GATEWAY_API_CRDS"):
        return Path(os.environ["INGRESSLIB_GATEWAY_API_CRDS"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "ingresslib" / "gateway-api" / gateway_api_version()


def load_gateway_api_crds() -> tuple[dict[str, Any], ...]:
    """The CustomResourceDefinitions of the cached standard channel (skip when absent or stale).

    The channel's other documents (the `safe-upgrades` ValidatingAdmissionPolicy and its
    binding, which only guard later CRD upgrades) are left out.
    """
    directory = gateway_api_crd_dir()
    files = sorted(directory.glob("*.yaml"))
    if not files:
        _unavailable(f"Gateway API CRDs not fetched into {directory}: run {GATEWAY_API_SCRIPT}")
    key_file = directory / "crds.key"
    if key_file.exists() or "INGRESSLIB_GATEWAY_API_CRDS" not in os.environ:
        copied = key_file.read_text().strip() if key_file.exists() else "(none)"
        if copied != gateway_api_key():
            _unavailable(
                f"the Gateway API CRDs in {directory} are stale (tools/gateway-api changed):"
                f" run {GATEWAY_API_SCRIPT}"
            )
    crds = [
        document
        for path in files
        for document in yaml.safe_load_all(path.read_text())
        if isinstance(document, dict) and document.get("kind") == "CustomResourceDefinition"
    ]
    return tuple(crds)


# --------------------------------------------------------------------------- PKI


@dataclass(frozen=True)
class Pki:
    """The files of a throwaway PKI, as envtest makes them (ECDSA P-256, RSA for the SA key)."""

    ca_cert: Path
    serving_cert: Path
    serving_key: Path
    client_cert: Path
    client_key: Path
    sa_public_key: Path
    sa_private_key: Path


def make_pki(
    directory: Path, user: str = "admin", groups: tuple[str, ...] = ("system:masters",)
) -> Pki:
    """Write a CA, a serving cert for 127.0.0.1/localhost, a client cert and an SA key pair."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError:
        _unavailable("the cryptography package is not installed (see docs/testing-kubernetes.md)")
        raise  # unreachable: _unavailable raises

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    pem = serialization.Encoding.PEM

    def write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> Path:
        path.write_bytes(
            key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        path.chmod(0o600)
        return path

    def name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
        return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("ingresslib-test-ca")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        subject: x509.Name, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName]
    ) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(ca_key, hashes.SHA256()).public_bytes(pem), key

    ca_cert = directory / "ca.crt"
    ca_cert.write_bytes(ca.public_bytes(pem))
    write_key(directory / "ca.key", ca_key)

    serving, serving_key = leaf(
        name("127.0.0.1"),
        ExtendedKeyUsageOID.SERVER_AUTH,
        [
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.DNSName("localhost"),
        ],
    )
    (directory / "apiserver.crt").write_bytes(serving)
    client, client_key = leaf(name(user, groups), ExtendedKeyUsageOID.CLIENT_AUTH, [])
    (directory / "admin.crt").write_bytes(client)

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (directory / "sa.pub").write_bytes(
        sa_key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return Pki(
        ca_cert=ca_cert,
        serving_cert=directory / "apiserver.crt",
        serving_key=write_key(directory / "apiserver.key", serving_key),
        client_cert=directory / "admin.crt",
        client_key=write_key(directory / "admin.key", client_key),
        sa_public_key=directory / "sa.pub",
        sa_private_key=write_key(directory / "sa.key", sa_key),
    )


# --------------------------------------------------------------------------- processes


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, or a note that there is none."""
    if not path.exists():
        return f"({path.name} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Process:
    """A child process whose stdout and stderr go to one log file (appended across restarts)."""

    def __init__(self, name: str, log: Path) -> None:
        self.name = name
        self.log = log
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self, argv: list[str]) -> None:
        assert self.popen is None, f"{self.name} is already running"
        with self.log.open("ab") as out:
            out.write(f"\n===== {time.strftime('%H:%M:%S')} {' '.join(argv)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )

    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds; a no-op when not running."""
        popen, self.popen = self.popen, None
        if popen is None:
            return
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()

    def failure(self, what: str) -> RuntimeError:
        """An error that quotes the tail of this process's log."""
        code = None if self.popen is None else self.popen.poll()
        state = "running" if code is None else f"exited with {code}"
        return RuntimeError(
            f"{self.name} {what} ({state}); last lines of {self.log}:\n{tail(self.log)}"
        )


@dataclass
class Response:
    """An HTTP response from the apiserver, its body decoded as JSON when it is JSON."""

    status: int
    headers: dict[str, str]
    body: Any

    def __repr__(self) -> str:
        return f"Response({self.status}, {json.dumps(self.body)[:2000]})"


@dataclass
class KubeAPIServer:
    """A running etcd + kube-apiserver pair, and what a client needs to talk to it."""

    directory: Path
    binaries: Path
    pki: Pki
    etcd_port: int
    etcd_peer_port: int
    port: int
    kubeconfig: Path
    extra_args: list[str] = field(default_factory=list)
    etcd: Process = field(init=False)
    apiserver: Process = field(init=False)

    def __post_init__(self) -> None:
        self.etcd = Process("etcd", self.directory / "etcd.log")
        self.apiserver = Process("kube-apiserver", self.directory / "kube-apiserver.log")

    # ---- addresses and credentials

    @property
    def url(self) -> str:
        """The apiserver's base URL, https://127.0.0.1:<port>."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def etcd_url(self) -> str:
        """etcd's client URL, plain HTTP on 127.0.0.1."""
        return f"http://127.0.0.1:{self.etcd_port}"

    @property
    def ca_cert(self) -> Path:
        """The CA that signed the serving and client certificates."""
        return self.pki.ca_cert

    @property
    def client_cert(self) -> Path:
        """The admin client certificate (CN admin, O system:masters)."""
        return self.pki.client_cert

    @property
    def client_key(self) -> Path:
        """The admin client key."""
        return self.pki.client_key

    def ssl_context(self) -> ssl.SSLContext:
        """A TLS context that trusts the test CA and presents the admin client certificate."""
        context = ssl.create_default_context(cafile=str(self.pki.ca_cert))
        context.load_cert_chain(str(self.pki.client_cert), str(self.pki.client_key))
        return context

    # ---- processes

    def start_etcd(self) -> None:
        """Start etcd (data kept across restarts) and wait until it reports healthy."""
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        self.etcd.start(
            [
                str(self.binaries / "etcd"),
                "--name=ingresslib-test",
                f"--data-dir={self.directory / 'etcd-data'}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=ingresslib-test={peer}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ]
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            with contextlib.suppress(OSError, ValueError):
                if self._etcd_call("GET", "/health").get("health") == "true":
                    return
            if not self.etcd.running() or time.monotonic() > deadline:
                raise self.etcd.failure(f"was not healthy on {self.etcd_url}")
            time.sleep(0.1)

    def apiserver_args(self) -> list[str]:
        """The kube-apiserver command line (envtest's flags plus `extra_args`)."""
        pki = self.pki
        return [
            str(self.binaries / "kube-apiserver"),
            f"--etcd-servers={self.etcd_url}",
            f"--secure-port={self.port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--cert-dir={self.directory / 'apiserver-certs'}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            f"--service-account-key-file={pki.sa_public_key}",
            f"--service-account-signing-key-file={pki.sa_private_key}",
            "--service-account-issuer=https://127.0.0.1",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--authorization-mode=RBAC",
            "--disable-admission-plugins=ServiceAccount",
            "--allow-privileged=true",
            *self.extra_args,
        ]

    def start_apiserver(self, timeout: float = READY_TIMEOUT) -> None:
        """Start kube-apiserver on its port and wait until /readyz answers ok."""
        self.apiserver.start(self.apiserver_args())
        self.wait_ready(timeout)

    def stop_apiserver(self) -> None:
        """Stop kube-apiserver (SIGTERM, as a rolling restart does); etcd keeps running."""
        self.apiserver.stop()

    def restart_apiserver(self, extra_args: list[str] | None = None) -> None:
        """Stop and start kube-apiserver, optionally with other extra flags from now on."""
        self.stop_apiserver()
        if extra_args is not None:
            self.extra_args = list(extra_args)
        self.start_apiserver()

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Poll GET /readyz with the admin certificate until it answers 200 "ok"."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while True:
            try:
                response = self.request("GET", "/readyz", timeout=5)
                if response.status == 200:
                    return
                last = f"{response.status} {response.body}"
            except (OSError, http.client.HTTPException) as error:
                last = repr(error)
            if not self.apiserver.running() or time.monotonic() > deadline:
                raise self.apiserver.failure(f"was not ready on {self.url}: {last}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop both processes (apiserver first)."""
        self.apiserver.stop()
        self.etcd.stop()

    def logs(self) -> dict[str, str]:
        """The tails of both logs, by process name."""
        return {p.name: tail(p.log) for p in (self.apiserver, self.etcd)}

    # ---- etcd

    def _etcd_call(self, method: str, path: str, body: Any = None) -> Any:
        connection = http.client.HTTPConnection("127.0.0.1", self.etcd_port, timeout=10)
        try:
            payload = None if body is None else json.dumps(body)
            connection.request(method, path, payload, {"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
            if response.status != 200:
                raise RuntimeError(f"etcd {method} {path}: {response.status} {data!r}")
            return json.loads(data)
        finally:
            connection.close()

    def etcd_revision(self) -> int:
        """etcd's current revision (what the apiserver shows as a resourceVersion)."""
        reply = self._etcd_call("POST", "/v3/kv/range", {"key": "AA==", "count_only": True})
        return int(reply["header"]["revision"])

    def compact_etcd(self, revision: int | None = None) -> int:
        """Compact etcd's history up to `revision` (default: the current one); returns it.

        Reads at an older revision then fail: a LIST with resourceVersionMatch=Exact below it
        answers 410 Gone once the apiserver's watch cache cannot serve it (after a restart), and
        so does a watch from an older resourceVersion that the watch cache no longer holds.
        """
        revision = self.etcd_revision() if revision is None else revision
        self._etcd_call("POST", "/v3/kv/compaction", {"revision": str(revision), "physical": True})
        return revision

    # ---- HTTP

    def connection(self, timeout: float = 30) -> http.client.HTTPSConnection:
        """A new HTTPS connection to the apiserver, authenticated as admin."""
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=self.ssl_context(), timeout=timeout
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> Response:
        """One JSON request; the body is decoded as JSON when the answer is JSON."""
        if query:
            path = f"{path}?{urllib.parse.urlencode(query)}"
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = self.connection(timeout)
        try:
            connection.request(method, path, payload, headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        decoded: Any = data.decode(errors="replace")
        if response.getheader("Content-Type", "").startswith("application/json"):
            decoded = json.loads(data)
        return Response(response.status, dict(response.getheaders()), decoded)

    @contextlib.contextmanager
    def watch(
        self, path: str, query: dict[str, str] | None = None, timeout: float = 20
    ) -> Iterator[Iterator[dict[str, Any]]]:
        """Open a watch (`?watch=1`) and yield an iterator over its events.

        A 429 (a watch cache still initialising after a restart) is retried for up to
        `timeout` seconds. Any other answer than 200 raises `WatchRefusedError` carrying the
        response, so a test can tell an HTTP 410 from a 200 stream whose first event is an
        ERROR with code 410.
        """
        params = {"watch": "1", "timeoutSeconds": str(int(timeout)), **(query or {})}
        target = f"{path}?{urllib.parse.urlencode(params)}"
        deadline = time.monotonic() + timeout
        while True:
            connection = self.connection(timeout + 5)
            try:
                connection.request("GET", target, headers={"Accept": "application/json"})
                response = connection.getresponse()
                if response.status == 200:

                    def events(response: http.client.HTTPResponse = response) -> Iterator[Any]:
                        while line := response.readline():
                            if line.strip():
                                yield json.loads(line)

                    yield events()
                    return
                data = response.read()
            finally:
                connection.close()
            body: Any = data.decode(errors="replace")
            with contextlib.suppress(ValueError):
                body = json.loads(data)
            refused = Response(response.status, dict(response.getheaders()), body)
            if response.status != 429 or time.monotonic() > deadline:
                raise WatchRefusedError(refused)
            time.sleep(float(response.getheader("Retry-After") or 1))


class WatchRefusedError(Exception):
    """A watch request answered with a status other than 200."""

    def __init__(self, response: Response) -> None:
        super().__init__(f"watch refused: {response!r}")
        self.response = response


def write_kubeconfig(path: Path, url: str, pki: Pki) -> Path:
    """A kubeconfig for the admin user, with file paths to the certificates."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "ingresslib-test",
                "cluster": {"server": url, "certificate-authority": str(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": "admin",
                "user": {
                    "client-certificate": str(pki.client_cert),
                    "client-key": str(pki.client_key),
                },
            }
        ],
        "contexts": [
            {"name": "ingresslib-test", "context": {"cluster": "ingresslib-test", "user": "admin"}}
        ],
        "current-context": "ingresslib-test",
        "preferences": {},
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def start_control_plane(directory: Path, binaries: Path, attempts: int = 3) -> KubeAPIServer:
    """Start etcd and kube-apiserver on fresh free ports, retrying when a port was taken."""
    pki = make_pki(directory / "pki")
    for attempt in range(1, attempts + 1):
        port = free_port()
        server = KubeAPIServer(
            directory=directory,
            binaries=binaries,
            pki=pki,
            etcd_port=free_port(),
            etcd_peer_port=free_port(),
            port=port,
            kubeconfig=write_kubeconfig(directory / "kubeconfig", f"https://127.0.0.1:{port}", pki),
        )
        try:
            server.start_etcd()
            server.start_apiserver()
        except RuntimeError as error:
            server.stop()
            shutil.rmtree(directory / "etcd-data", ignore_errors=True)
            if attempt == attempts or "address already in use" not in str(error):
                raise
        else:
            return server
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def kube_apiserver() -> Iterator[KubeAPIServer]:
    """One etcd + kube-apiserver for the whole session (see the module docstring)."""
    binaries = _find_binaries()
    directory = Path(tempfile.mkdtemp(prefix="ingresslib-k8s-"))
    server: KubeAPIServer | None = None
    try:
        server = start_control_plane(directory, binaries)
        yield server
    finally:
        if server is not None:
            server.stop()
        if os.environ.get("INGRESSLIB_K8S_KEEP"):
            print(f"\nkube_apiserver: kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Attach the tails of the etcd and kube-apiserver logs to a failed test's report."""
    report = yield
    server = getattr(item, "funcargs", {}).get("kube_apiserver")
    if report.failed and isinstance(server, KubeAPIServer):
        for name, text in server.logs().items():
            report.sections.append((f"{name} log (last lines)", text))
    return report


@pytest.fixture
def namespace(kube_apiserver: KubeAPIServer) -> str:
    """A fresh namespace (never deleted: without a controller manager it would stay Terminating)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    response = kube_apiserver.request(
        "POST",
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
    )
    assert response.status == 201, response
    return name


# --------------------------------------------------------------------------- Gateway API


def _established(crd: dict[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def _terminating(obj: Any) -> bool:
    return isinstance(obj, dict) and bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def _served_resources(server: KubeAPIServer, group_version: str) -> set[str]:
    response = server.request("GET", f"/apis/{group_version}")
    if response.status != 200:
        return set()
    return {r["name"] for r in response.body.get("resources") or ()}


def _await(condition: Any, what: str, server: KubeAPIServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise server.apiserver.failure(f"did not get there in {timeout:.0f}s: {what}")
        time.sleep(0.1)


@dataclass
class GatewayAPICRDs:
    """The Gateway API CRDs of the pinned release, and their installation into one apiserver."""

    server: KubeAPIServer
    crds: tuple[dict[str, Any], ...]
    version: str

    @property
    def names(self) -> tuple[str, ...]:
        """The CRDs' names, e.g. "httproutes.gateway.networking.k8s.io"."""
        return tuple(c["metadata"]["name"] for c in self.crds)

    def installed(self) -> bool:
        """Whether every CRD is there, Established and not being deleted (one LIST)."""
        items = self.server.request("GET", CRDS).body.get("items") or []
        ready = {
            i["metadata"]["name"]
            for i in items
            if _established(i) and not i["metadata"].get("deletionTimestamp")
        }
        return set(self.names) <= ready

    def install(self, timeout: float = 60.0) -> None:
        """Create the CRDs that are missing; wait until each is Established and discoverable.

        Idempotent: when they are all there already, that is one LIST.
        """
        if self.installed():
            return
        began = time.monotonic()
        for crd in self.crds:
            name = crd["metadata"]["name"]
            path = f"{CRDS}/{name}"
            # One being deleted (by `without_gateway_api`) must be gone before it is created again.
            _await(
                lambda path=path: not _terminating(self.server.request("GET", path).body),
                f"{name} deleted",
                self.server,
                timeout,
            )
            response = self.server.request("POST", CRDS, crd)
            assert response.status in (201, 409), response
        for crd in self.crds:
            name = crd["metadata"]["name"]
            _await(
                lambda name=name: _established(self.server.request("GET", f"{CRDS}/{name}").body),
                f"{name} Established",
                self.server,
                timeout,
            )
            group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    group_version = f"{group}/{version['name']}"
                    _await(
                        lambda gv=group_version, plural=plural: (
                            plural in _served_resources(self.server, gv)
                        ),
                        f"{plural} in the discovery of {group_version}",
                        self.server,
                        timeout,
                    )
        print(  # shown with -s only
            f"\nGateway API {self.version}: {len(self.crds)} CRDs installed and served"
            f" in {time.monotonic() - began:.2f}s"
        )


def remove_gateway_api_crds(server: KubeAPIServer, timeout: float = 180.0) -> None:
    """Delete every CRD of the gateway.networking.k8s.io group and wait until it is gone.

    The apiserver's CRD finalizer (`customresourcecleanup.apiextensions.k8s.io`) deletes
    the objects of each kind first, and retries with an exponential backoff when the
    kind's storage answers "storage is (re)initializing" (right after an install): that
    retry once came after more than three minutes. So the objects are deleted here first
    (a `deletecollection` of every kind), and a CRD still held by its finalizer after
    `finalizer_wait` seconds, whose objects are gone, is released by removing it.
    """
    finalizer_wait = 20.0
    items = server.request("GET", CRDS).body.get("items") or []
    crds = [i for i in items if i["spec"]["group"] == GATEWAY_API_GROUP]
    for crd in crds:
        plural = crd["spec"]["names"]["plural"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                path = f"/apis/{GATEWAY_API_GROUP}/{version['name']}/{plural}"
                for _ in range(20):  # a kind's storage may be (re)initializing: retried
                    response = server.request("DELETE", path)
                    if response.status in (200, 404):
                        break
                    time.sleep(0.5)
                assert response.status in (200, 404), response
                break
    names = [crd["metadata"]["name"] for crd in crds]
    for name in names:
        response = server.request("DELETE", f"{CRDS}/{name}")
        assert response.status in (200, 202, 404), response
    began = time.monotonic()
    for name in names:
        deadline = began + finalizer_wait
        while time.monotonic() < deadline:
            if server.request("GET", f"{CRDS}/{name}").status == 404:
                break
            time.sleep(0.2)
        else:
            stuck = server.request("GET", f"{CRDS}/{name}")
            if stuck.status == 200 and stuck.body["metadata"].get("finalizers"):
                stuck.body["metadata"]["finalizers"] = []
                response = server.request("PUT", f"{CRDS}/{name}", stuck.body)
                assert response.status in (200, 404, 409), response
        _await(
            lambda name=name: server.request("GET", f"{CRDS}/{name}").status == 404,
            f"{name} deleted",
            server,
            timeout,
        )
    _await(
        lambda: server.request("GET", f"/apis/{GATEWAY_API_GROUP}/v1").status == 404,
        f"/apis/{GATEWAY_API_GROUP}/v1 answering 404",
        server,
        timeout,
    )


@pytest.fixture(scope="session")
def gateway_api_crds(kube_apiserver: KubeAPIServer) -> GatewayAPICRDs:
    """The cached CRDs of the pinned Gateway API release, for the session's apiserver.

    Nothing is installed yet: ask for `gateway_api` for that.
    """
    return GatewayAPICRDs(kube_apiserver, load_gateway_api_crds(), gateway_api_version())


@pytest.fixture
def gateway_api(gateway_api_crds: GatewayAPICRDs) -> GatewayAPICRDs:
    """The Gateway API CRDs, installed (once per session, unless a test removed them)."""
    gateway_api_crds.install()
    return gateway_api_crds


@pytest.fixture
def without_gateway_api(kube_apiserver: KubeAPIServer) -> None:
    """No Gateway API CRDs in the apiserver (removed if an earlier test installed them)."""
    if kube_apiserver.request("GET", f"/apis/{GATEWAY_API_GROUP}/v1").status != 404:
        remove_gateway_api_crds(kube_apiserver)
