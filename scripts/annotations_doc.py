"""Write docs/annotations.md: every ingress-nginx annotation, its status here, its peers'.

The status is `ingresslib.ingress.annotations.annotation_status` (what the built-in
plugins read, so the page never claims more than the code does); the one-line semantics
of the implemented ones and their differences from ingress-nginx are below; the others
show ingress-nginx's own documentation string. The Traefik and ingress2gateway columns
come from scripts/data/annotation_peers.tsv (its header names the commits read).

    python scripts/annotations_doc.py            # rewrite docs/annotations.md
    python scripts/annotations_doc.py --check    # exit 1 if the page is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

from ingresslib.ingress.annotations import CATALOGUE, annotation_status

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "scripts" / "data" / "annotation_peers.tsv"
PAGE = ROOT / "docs" / "annotations.md"

#: One line per implemented annotation: what it does here (= in ingress-nginx).
SEMANTICS = {
    "allowlist-source-range": "only these CIDRs (`allow ...; deny all;`), else 403",
    "whitelist-source-range": "alias of allowlist-source-range",
    "denylist-source-range": "these CIDRs get 403; checked before the allowlist (deny wins)",
    "app-root": 'a request for "/" on the host is redirected (302) to the root; host-wide',
    "auth-type": "`basic`: HTTP Basic authentication (401 with the realm); `digest`: 503",
    "auth-secret": "the Secret with the htpasswd file (`auth`) or map; missing: 503",
    "auth-secret-type": "`auth-file` (key `auth`) or `auth-map` (one user per key)",
    "auth-realm": "the realm of the `WWW-Authenticate` challenge",
    "canary": "this Ingress's paths become the alternative of the same host/path",
    "canary-by-header": "header `always` / `never` (or the value/pattern below) decides",
    "canary-by-header-value": "the header value that sends to the canary",
    "canary-by-header-pattern": "a pattern of the header value (unanchored)",
    "canary-by-cookie": "cookie `always` / `never` decides (after the header)",
    "canary-weight": "the canary's share of the rest (weight / total)",
    "canary-weight-total": "the total of the weights when above 100",
    "enable-cors": "CORS headers; OPTIONS answered 204 for an allowed origin",
    "cors-allow-origin": "origins (`*`, or a list with `*.` labels), nginx's regex",
    "cors-allow-methods": "Access-Control-Allow-Methods (default GET, PUT, POST, ...)",
    "cors-allow-headers": "Access-Control-Allow-Headers (default DNT, Keep-Alive, ...)",
    "cors-allow-credentials": "Access-Control-Allow-Credentials (default true)",
    "cors-expose-headers": "Access-Control-Expose-Headers",
    "cors-max-age": "Access-Control-Max-Age (default 1728000)",
    "force-ssl-redirect": "plain HTTP is redirected (308) to https even without TLS",
    "ssl-redirect": "plain HTTP to a TLS host is redirected (308) to https (default on)",
    "preserve-trailing-slash": 'keep the final "/" of the HTTPS redirect target',
    "limit-rps": "limit_req per client address: rps, burst rps x multiplier, nodelay, 503",
    "limit-rpm": "the same per minute",
    "limit-connections": "limit_conn: requests in flight per client address, 503",
    "limit-burst-multiplier": "the burst multiplier (default 5)",
    "limit-allowlist": "client CIDRs the limits do not count",
    "limit-whitelist": "alias of limit-allowlist",
    "permanent-redirect": "every request is redirected to the URL as written",
    "permanent-redirect-code": "its status, 300-308 (default 301)",
    "temporal-redirect": "the same, and it wins over permanent-redirect",
    "temporal-redirect-code": "its status, 300-307 (default 302)",
    "proxy-body-size": "client_max_body_size: a larger Content-Length gets 413",
    "rewrite-target": '`rewrite "(?i)<path>" <target>` with `$n` captures; query kept',
    "use-regex": "every path of the host becomes `~* ^path`, longest first; host-wide",
    "upstream-vhost": "the Host sent upstream",
    "x-forwarded-prefix": "X-Forwarded-Prefix sent upstream beside a rewrite-target",
    "affinity": "`cookie`: sticky sessions by cookie (CookieAffinity)",
    "affinity-mode": "`balanced` (consistent hash of the session) or `persistent`",
    "session-cookie-name": "the affinity cookie's name (INGRESSCOOKIE)",
    "session-cookie-path": "its Path (default: the location's path)",
    "session-cookie-domain": "its Domain",
    "session-cookie-max-age": "its Max-Age",
    "session-cookie-expires": "its Expires, seconds from now",
    "session-cookie-secure": "its Secure flag (default: when the request is https)",
    "session-cookie-samesite": "its SameSite",
    "upstream-hash-by": "consistent hashing of nginx variables ($request_uri, $http_x...)",
    "load-balance": "`round_robin` (default) or `ewma`",
    "proxy-connect-timeout": "seconds to connect to an endpoint",
    "proxy-send-timeout": "seconds between two writes to the endpoint",
    "proxy-read-timeout": "seconds between two reads from the endpoint (504 after)",
    "auth-url": "auth_request: 2xx passes, 401/403 relayed, else or unreachable 500",
    "auth-method": "the subrequest's method",
    "auth-signin": "a 401 redirects (302) here with `rd=` the request's URL",
    "auth-signin-redirect-param": "the name of that parameter (rd)",
    "auth-response-headers": "auth response fields set on the request sent upstream",
    "auth-request-redirect": "X-Auth-Request-Redirect of the subrequest",
    "backend-protocol": "HTTPS / AUTO_HTTP to the endpoints; GRPC, GRPCS, FCGI: 503",
    "server-alias": "more names of the host's server: each serves every path of the host",
}

#: Where ingresslib differs from ingress-nginx for an implemented annotation.
DIFFERENCES = {
    "canary": "ingress-nginx shapes the Service's upstream (other hosts' paths to it too); "
    "here the matching host and path; a canary default backend is not merged",
    "use-regex": "RE2, not PCRE: a pattern RE2 refuses (lookaround) is reported",
    "rewrite-target": "RE2, not PCRE",
    "ssl-redirect": "the HTTPS port is added when it is not 443",
    "force-ssl-redirect": "the HTTPS port is added when it is not 443",
    "proxy-body-size": "only the Content-Length is checked (chunked bodies are not counted); "
    "no 1m default (a ConfigMap setting)",
    "auth-type": "`digest` is not implemented (503)",
    "limit-rps": "also for the ASGI and aiohttp middlewares; per process (no shared zone)",
    "auth-url": "sent by the aiohttp proxy (`serve`); the ASGI executors answer 503; no "
    "auth cache, keepalive or auth-snippet",
    "backend-protocol": "gRPC and FastCGI backends are not implemented (503)",
    "session-cookie-secure": "no conditional SameSite=None by User-Agent",
    "proxy-send-timeout": "not enforced by the aiohttp proxy (no write timeout there)",
    "server-alias": "an alias host gets no TLS certificate of its own",
}

_STATUS = {"implemented": "yes", "refused": "refused", "not implemented": "no"}

_PLUGIN_API = """
## Where each annotation acts, and the plugin API

Each annotation family is an `AnnotationPlugin` (`ingresslib.plugins`): it reads its
annotations from one Ingress and contributes filters to the Ingress's rules, in nginx's
phase order (`PHASE_SERVER_REWRITE`, `PHASE_REWRITE`, `PHASE_REWRITE_LUA`,
`PHASE_PREACCESS`, `PHASE_ACCESS`, `PHASE_CONTENT`); a `HostWidePlugin` also rewrites all
the rules of a host (use-regex, app-root, canary). The filters are the IR's own
(`Rewrite`, `HTTPSRedirect`, `Timeouts`...), `Step`s that `decide()` runs (CORS, source
ranges, basic auth, redirects, rewrite-target, canary, body size) and `Policy`s that
executors run (`RequestRateLimit`, `ConnectionLimit` through `ingresslib.proxy.PolicyRunner`;
`Balancing` when they choose an endpoint). A third party adds a prefix of its own with
`register_annotation_plugin()` or the `ingresslib.annotations` entry-point group; every
annotation under a claimed prefix that no plugin reads is reported.

The built-in plugins are listed in `ingresslib.ingress.annotations.BUILTIN_PLUGINS`; the end
to end tests of each are tests/test_annotations_*_e2e.py (ingress-nginx's own e2e cases,
restated), and tests/test_nginx_locations.py checks use-regex and rewrite-target against a
model of nginx's location selection.
"""


def _peers() -> tuple[list[str], dict[str, tuple[str, str]]]:
    header: list[str] = []
    rows: dict[str, tuple[str, str]] = {}
    for line in PEERS.read_text().splitlines():
        if line.startswith("#"):
            header.append(line.lstrip("# ").rstrip())
            continue
        name, traefik, i2gw = [*line.split("\t"), "", ""][:3]
        rows[name] = (traefik, i2gw)
    return header, rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _first_sentence(doc: str) -> str:
    text = " ".join(doc.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def render() -> str:
    """The page."""
    header, peers = _peers()
    counts = {"implemented": 0, "refused": 0, "not implemented": 0}
    lines = []
    for name in sorted(CATALOGUE):
        info = CATALOGUE[name]
        status = annotation_status(name)
        counts[status] += 1
        if status == "implemented":
            what = SEMANTICS.get(name, _first_sentence(info.doc))
        elif status == "refused":
            what = "refused: configuration text (CVE-2021-25742, CVE-2025-1974); Ingress dropped"
        elif info.restricts_access:
            what = "not implemented; restricts access, so the paths answer 503 (fails closed). " + (
                _first_sentence(info.doc)
            )
        else:
            what = "not implemented (warned). " + _first_sentence(info.doc)
        traefik, i2gw = peers.get(name, ("?", "?"))
        lines.append(
            f"| `{name}` | {_STATUS[status]} | {_cell(what)} | {_cell(DIFFERENCES.get(name, ''))} "
            f"| {_cell(traefik)} | {_cell(i2gw)} |"
        )
    sources = "\n".join(f"> {line}" for line in header[1:3] + header[7:9])
    return (
        f"""# ingress-nginx annotations

<!-- Generated by scripts/annotations_doc.py; `make test` checks it is up to date. -->

Every annotation of ingress-nginx v1.15.1 (`nginx.ingress.kubernetes.io/<name>`), what
ingresslib does with it, and how Traefik's ingress-nginx provider and ingress2gateway
treat it. **{counts["implemented"]} implemented, {counts["refused"]} refused,
{counts["not implemented"]} not implemented.**

The policy (DESIGN.md, "nothing silently ignored"): an implemented annotation behaves as in
ingress-nginx (differences, if any, are in the table); a snippet is **refused** and its
Ingress is not routed; an annotation that is not implemented and **restricts access**
(authentication, source ranges, the WAF) makes every path of its Ingress answer 503; any
other one is reported by `ingresslib check` / `audit` and warned once by `serve`. An
invalid value behaves as ingress-nginx's parser does: the default (with a warning), a 503
location ("location denied"), or an Ingress that is not routed (a validation error), each
reported with the annotation as the field.

How to read the peers' columns: Traefik (its `kubernetesIngressNginx` provider) ignores
the annotations it does not read, silently; ingress2gateway converts some to Gateway API
and warns about the rest ("impl-only": only an implementation-specific emitter uses it).

{sources}

| annotation | here | what it does | differences from ingress-nginx | Traefik | ingress2gateway |
|---|---|---|---|---|---|
"""
        + "\n".join(lines)
        + "\n"
        + _PLUGIN_API
    )


def main() -> int:
    """Write (or with --check, compare) docs/annotations.md."""
    page = render()
    if "--check" in sys.argv[1:]:
        if not PAGE.exists() or PAGE.read_text() != page:
            print("docs/annotations.md is out of date: run python scripts/annotations_doc.py")
            return 1
        return 0
    PAGE.write_text(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
