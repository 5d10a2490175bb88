"""Helpers for tests of code that uses ingresslib (as `falcon.testing` is for Falcon apps).

- Manifest builders: `ingress`, `ingress_rule`, `ingress_path`, `ingress_tls`,
  `service_backend`, `ingress_class`, `service`, `endpoint_slice`, `tls_secret` return the
  plain dicts of Kubernetes objects, for `ingresslib.load_manifests` or a kube-apiserver.
- A plain reference router: `reference_match(ingresses, host, path)` routes one request the
  slow, obvious way (a loop over every path of every Ingress), and `outcome_of(match)` puts
  what `RouteTable.match` returned in the same comparable form (`Outcome`), so that a test can
  check the compiled router against it, e.g. with Hypothesis over random manifests.

Pure Python, no third-party package beyond ingresslib's own. docs/testing.md has an example.
"""

from ingresslib.testing._manifests import (
    Manifest,
    endpoint_slice,
    ingress,
    ingress_class,
    ingress_path,
    ingress_rule,
    ingress_tls,
    service,
    service_backend,
    tls_secret,
)
from ingresslib.testing._reference import (
    Outcome,
    normalize_request_host,
    outcome_of,
    reference_match,
    reference_vhost,
)

__all__ = [
    "Manifest",
    "Outcome",
    "endpoint_slice",
    "ingress",
    "ingress_class",
    "ingress_path",
    "ingress_rule",
    "ingress_tls",
    "normalize_request_host",
    "outcome_of",
    "reference_match",
    "reference_vhost",
    "service",
    "service_backend",
    "tls_secret",
]
