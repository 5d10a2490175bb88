"""Which certificate serves which host: `CertificateStore`, built from Ingresses and Secrets.

`CertificateStore.build(resources)` reads `spec.tls[]` of every Ingress among `resources`: each
entry's `secretName`, in the Ingress's namespace, must be a `kubernetes.io/tls` Secret whose
`tls.crt` (a PEM chain) and `tls.key` (the PEM key) load and match, and whose leaf certificate
has not expired. A problem with one entry (missing Secret, wrong type, bad PEM, key mismatch,
expired) is reported in `problems`, naming the Ingress and the field, and never stops the other
hosts. Building is pure apart from the temporary files `ssl` needs to load a chain.

`select(server_name)` picks the certificate of a TLS server name: the exact host, then the
wildcard (`*.foo.com` covers one label), then the default certificate. `ssl_context()` returns a
server `ssl.SSLContext` whose `sni_callback` switches each handshake to that certificate.

The expiry check uses `cryptography` when it is installed and is skipped otherwise.
"""

from __future__ import annotations

import datetime
import os
import ssl
import tempfile
from collections.abc import Callable, Iterable, Mapping

import attrs

from ingresslib.gatewayapi import ListenerState
from ingresslib.resources import Ingress, Secret
from ingresslib.resources._meta import age_key
from ingresslib.routing import RouteTable
from ingresslib.rules._hosts import normalize_host, wildcard_parent

__all__ = [
    "Certificate",
    "CertificateStore",
    "certificate_sources",
    "load_certificate",
    "sni_context",
]


@attrs.frozen(eq=False)
class Certificate:
    """A loaded certificate chain and its key.

    Attributes:
        name: where it came from: "namespace/secret" (or "default").
        chain_pem: the PEM chain, leaf first.
        key_pem: the PEM private key.
        not_after: the leaf's expiry (None when `cryptography` is not installed).
        context: a server SSLContext holding the chain.
    """

    name: str
    chain_pem: bytes = attrs.field(repr=False)
    key_pem: bytes = attrs.field(repr=False)
    not_after: datetime.datetime | None
    context: ssl.SSLContext = attrs.field(repr=False)


def _server_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _load_chain(context: ssl.SSLContext, chain_pem: bytes, key_pem: bytes) -> None:
    # `load_cert_chain` reads files only: a private directory (0700) and files (0600) that are
    # removed as soon as the chain is loaded.
    with tempfile.TemporaryDirectory(prefix="ingresslib-tls-") as directory:
        cert_path = os.path.join(directory, "tls.crt")
        key_path = os.path.join(directory, "tls.key")
        for path, data in ((cert_path, chain_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
        context.load_cert_chain(cert_path, key_path)


def _not_after(chain_pem: bytes) -> datetime.datetime | None:
    try:
        from cryptography import x509  # noqa: PLC0415 (optional)
    except ImportError:  # pragma: no cover - cryptography is installed in the tests
        return None
    leaf = x509.load_pem_x509_certificate(chain_pem)
    return leaf.not_valid_after_utc


def load_certificate(
    name: str,
    chain_pem: bytes,
    key_pem: bytes,
    *,
    now: datetime.datetime | None = None,
) -> Certificate:
    """Load and check one chain and key.

    Args:
        name: a name for messages, e.g. "namespace/secret".
        chain_pem: the PEM certificate chain, leaf first.
        key_pem: the PEM private key of the leaf.
        now: the time expiry is checked at (default: the current time).

    Returns:
        The certificate, with a server SSLContext holding it.

    Raises:
        ValueError: the PEM does not load, the key does not match, or the leaf expired.
    """
    if b"-----BEGIN" not in chain_pem:
        raise ValueError("tls.crt holds no PEM certificate")
    if b"-----BEGIN" not in key_pem:
        raise ValueError("tls.key holds no PEM private key")
    context = _server_context()
    try:
        _load_chain(context, chain_pem, key_pem)
    except ssl.SSLError as error:
        reason = error.reason or str(error)
        if "KEY_VALUES_MISMATCH" in reason.upper():
            raise ValueError("the private key in tls.key does not match the certificate") from None
        raise ValueError(f"tls.crt/tls.key do not load: {reason}") from None
    try:
        not_after = _not_after(chain_pem)
    except ValueError as error:
        raise ValueError(f"tls.crt does not parse: {error}") from None
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    if not_after is not None and not_after <= moment:
        raise ValueError(f"the certificate expired at {not_after.isoformat()}")
    return Certificate(name, chain_pem, key_pem, not_after, context)


@attrs.frozen(eq=False)
class CertificateStore:
    """Certificates by TLS host (exact names and `*.` wildcards), and an optional default.

    Build it with `CertificateStore.build(resources)`; it is immutable: rebuild and swap it.

    Attributes:
        hosts: certificate by host: a normalised exact name or `*.parent`.
        default: served when no host matches (None: the handshake fails for such names).
        tls_hosts: every host named in some `spec.tls[].hosts`, with a certificate or not.
        problems: one readable message per entry that could not be used.
    """

    hosts: Mapping[str, Certificate] = attrs.field(factory=dict)
    default: Certificate | None = None
    tls_hosts: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        resources: Iterable[object],
        *,
        default: Certificate | None = None,
        now: datetime.datetime | None = None,
    ) -> CertificateStore:
        """Read `spec.tls[]` of every Ingress among `resources`.

        When two Ingresses name the same host with different Secrets, the oldest Ingress
        (creationTimestamp, then namespace/name) wins and the other is reported. An entry
        without `secretName` leaves its hosts to the default certificate, as ingress-nginx does.

        Args:
            resources: Ingresses and Secrets (other objects are ignored).
            default: the certificate for names no entry covers (see `load_certificate`).
            now: the time expiry is checked at (default: the current time).

        Returns:
            The store; `problems` lists what could not be used.
        """
        ingresses: list[Ingress] = []
        secrets: dict[tuple[str, str], Secret] = {}
        for resource in resources:
            if isinstance(resource, Ingress):
                ingresses.append(resource)
            elif isinstance(resource, Secret):
                secrets[(resource.metadata.namespace, resource.metadata.name)] = resource
        ingresses.sort(key=age_key)  # the same order as routing: one rule
        loaded: dict[tuple[str, str], Certificate | str] = {}
        hosts: dict[str, Certificate] = {}
        owners: dict[str, str] = {}
        tls_hosts: set[str] = set()
        problems: list[str] = []
        for ingress in ingresses:
            namespace, name = ingress.metadata.namespace, ingress.metadata.name
            for position, tls in enumerate(ingress.spec.tls):
                names = [normalize_host(h) for h in tls.hosts if normalize_host(h)]
                tls_hosts.update(names)
                if not tls.secret_name:
                    continue
                field = f"Ingress {namespace}/{name}: spec.tls[{position}].secretName"
                key = (namespace, tls.secret_name)
                result = loaded.get(key)
                if result is None:
                    result = loaded[key] = _from_secret(secrets.get(key), key, now)
                if isinstance(result, str):
                    problems.append(f"{field}: {result}")
                    continue
                for host in names:
                    known = hosts.get(host)
                    if known is None:
                        hosts[host] = result
                        owners[host] = f"{namespace}/{name}"
                    elif known is not result:
                        problems.append(
                            f"{field}: host {host!r} is already served by Secret {known.name}"
                            f" (from the older Ingress {owners[host]}); ignored"
                        )
        return cls(hosts, default, frozenset(tls_hosts), tuple(problems))

    @classmethod
    def from_listeners(
        cls, listeners: Iterable[ListenerState], *, now: datetime.datetime | None = None
    ) -> CertificateStore:
        """The certificates of Gateway API HTTPS listeners, by listener hostname.

        Each listener's first certificateRef serves its hostname (a listener without a
        hostname: the default certificate); the refs were resolved by
        `ingresslib.gatewayapi.attach` (ReferenceGrant, kind, type).
        """
        hosts: dict[str, Certificate] = {}
        default: Certificate | None = None
        problems: list[str] = []
        for state in listeners:
            if state.listener.protocol != "HTTPS":
                continue
            if state.certificate_problem is not None:
                problems.append(
                    f"Gateway {state.gateway.metadata.namespace}/{state.gateway.metadata.name}: "
                    f"{state.field}: {state.certificate_problem[1]}"
                )
                continue
            if not state.certificates:
                continue
            secret = state.certificates[0]
            key = (secret.metadata.namespace, secret.metadata.name)
            result = _from_secret(secret, key, now)
            if isinstance(result, str):
                problems.append(f"{state.field}: {result}")
                continue
            if state.hostname:
                hosts.setdefault(state.hostname, result)
            elif default is None:
                default = result
        return cls(hosts, default, frozenset(hosts), tuple(problems))

    def select(self, server_name: str | None) -> Certificate | None:
        """The certificate for a TLS server name: exact, then wildcard, then the default."""
        name = normalize_host(server_name)
        if name:
            found = self.hosts.get(name)
            if found is not None:
                return found
            parent = wildcard_parent(name)
            if parent is not None:
                found = self.hosts.get(f"*.{parent}")
                if found is not None:
                    return found
        return self.default

    def ssl_context(self) -> ssl.SSLContext:
        """A server SSLContext that serves each SNI name its certificate from this store.

        The context holds the default certificate (for clients that send no SNI); its
        `sni_callback` switches the connection to the context of the selected certificate.
        Without a default, a name no certificate covers gets an `unrecognized_name` alert.
        """
        return sni_context(lambda: self)


def sni_context(current: Callable[[], CertificateStore | None]) -> ssl.SSLContext:
    """A server SSLContext whose `sni_callback` asks `current()` for the store at each handshake.

    A gateway passes a function that reads its current store, so that a swapped store serves
    new connections without a new listening socket. The default certificate of the store at
    creation is loaded into the context itself, for clients that send no SNI.
    """
    context = _server_context()
    store = current()
    if store is not None and store.default is not None:
        _load_chain(context, store.default.chain_pem, store.default.key_pem)

    def sni_callback(
        connection: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext
    ) -> int | None:
        store = current()
        certificate = None if store is None else store.select(server_name)
        if certificate is None:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        connection.context = certificate.context
        return None

    context.sni_callback = sni_callback
    return context


def _from_secret(
    secret: Secret | None, key: tuple[str, str], now: datetime.datetime | None
) -> Certificate | str:
    label = f"Secret {key[0]}/{key[1]}"
    if secret is None:
        return f"{label} does not exist"
    if not secret.is_tls:
        return f"{label} has type {secret.effective_type!r}, not 'kubernetes.io/tls'"
    chain, private_key = secret.certificate_pem, secret.private_key_pem
    if not chain or not private_key:
        return f"{label} lacks tls.crt or tls.key"
    try:
        return load_certificate(f"{key[0]}/{key[1]}", chain, private_key, now=now)
    except ValueError as error:
        return f"{label}: {error}"


def certificate_sources(table: RouteTable, resources: Iterable[object]) -> list[Ingress | Secret]:
    """What the TLS certificates come from: the Ingresses `table` routes, and the Secrets.

    Ingresses of other classes (other controllers) are left out: their `tls` sections are
    not ours to serve.
    """
    secrets = [resource for resource in resources if isinstance(resource, Secret)]
    return [*table.ingresses, *secrets]
