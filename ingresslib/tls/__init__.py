"""TLS termination material: certificates by host from kubernetes.io/tls Secrets, chosen by SNI.

`CertificateStore.build(resources)` reads the `spec.tls[]` of every Ingress (the oldest
Ingress wins a host, by the same `age_key` as routing) and the Secrets they name;
`sni_context(current)` is a server `SSLContext` that serves each SNI name the certificate of
the current store. Used by `ingresslib.aiohttp.ReverseProxy` and `ingresslib serve`, and
usable with any server that takes an `ssl.SSLContext`.
"""

from ingresslib.tls._store import (
    Certificate,
    CertificateStore,
    certificate_sources,
    load_certificate,
    sni_context,
)

__all__ = [
    "Certificate",
    "CertificateStore",
    "certificate_sources",
    "load_certificate",
    "sni_context",
]
