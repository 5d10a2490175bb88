"""Access: source ranges (allowlist, denylist) and `auth-type: basic`.

The template puts them in nginx's access phase, in this order of evaluation (nginx runs
a phase's handlers in the reverse order of registration: access, then auth_basic, then
auth_request): `deny <cidr>;` for each `denylist-source-range` entry, then `allow <cidr>;`
for each `allowlist-source-range` entry and `deny all;` (403), then `auth_basic` (401).
"""

from __future__ import annotations

import re

import attrs

from ingresslib.ingress.annotations._htpasswd import (
    HashUnavailable,
    parse_basic_credentials,
    parse_htpasswd,
    verify_password,
)
from ingresslib.ingress.annotations._values import (
    BASIC_CHARS,
    CHARS_WITH_SPACE,
    NGINX_PREFIX,
    AnnotationReader,
    Ignored,
    Invalid,
    Validator,
    nginx_annotations,
    parse_cidrs,
    validate_regex,
)
from ingresslib.plugins._annotations import (
    NOTHING,
    PHASE_ACCESS,
    AnnotationContext,
    Contribution,
    ObjectRef,
)
from ingresslib.resources._networking import Ingress
from ingresslib.rules._filters import HeaderChanges
from ingresslib.rules._policies import Network, in_networks
from ingresslib.rules._steps import Answer, Step, StepState

__all__ = ["BasicAuth", "BasicAuthPlugin", "SourceRangePlugin", "SourceRanges"]


@attrs.frozen
class SourceRanges(Step):
    """`deny` the denylist, then `allow` the allowlist and `deny all` (403).

    Attributes:
        deny: networks refused ("deny wins": checked first).
        allow: networks admitted; when not empty, every other address is refused.
    """

    deny: tuple[Network, ...] = ()
    allow: tuple[Network, ...] = ()

    def run(self, state: StepState) -> Answer | None:
        """403 for a client the ranges refuse."""
        client = state.client
        # ngx_http_access_module: "the rules are checked in sequence until the first match".
        if in_networks(self.deny, client):
            return Answer(403, reason="the client address is in denylist-source-range")
        if self.allow and not in_networks(self.allow, client):
            return Answer(403, reason="the client address is not in allowlist-source-range")
        return None


@attrs.frozen
class SourceRangePlugin:
    """`allowlist-source-range` (`whitelist-source-range`), `denylist-source-range`.

    ipallowlist/main.go, ipdenylist/main.go: a value that is not a list of addresses and
    networks is a `LocationDeniedError` ("the annotation does not contain a valid IP
    address or network"): the location answers 503.
    """

    name: str = "nginx.ingress.kubernetes.io/source-range"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = nginx_annotations(
        "allowlist-source-range",
        "whitelist-source-range",
        "denylist-source-range",
    )
    phase: int = PHASE_ACCESS
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The SourceRanges step, or a denied location for an invalid list."""
        del context
        reader = AnnotationReader(ingress)
        lists: list[tuple[Network, ...]] = []
        for name, aliases in (
            ("denylist-source-range", ()),
            ("allowlist-source-range", ("whitelist-source-range",)),
        ):
            try:
                found = reader.find(name, None, *aliases)
                if found is None:
                    lists.append(())
                    continue
                full, value = found
                try:
                    lists.append(parse_cidrs(value))
                except ValueError as error:
                    raise Invalid(
                        full, f"does not contain a valid IP address or network: {error}"
                    ) from None
            except (Invalid, Ignored) as error:
                return reader.deny(error.annotation, error.reason)
        deny, allow = lists
        if not deny and not allow:
            return NOTHING
        return Contribution(filters=(SourceRanges(deny, allow),))


def _optional(reader: AnnotationReader, name: str, validator: Validator) -> str | None:
    """A string annotation whose empty value counts as unset; validation errors raise."""
    try:
        return reader.string(name, validator)
    except Ignored:
        return None


_AUTH_TYPE = re.compile("basic|digest")  # authTypeRegex: unanchored, as ingress-nginx's
_AUTH_SECRET_TYPE = re.compile("auth-file|auth-map")


@attrs.frozen
class BasicAuth(Step):
    """`auth_basic "<realm>"; auth_basic_user_file <file>;` and `Authorization ""` upstream.

    Attributes:
        realm: the realm of the `WWW-Authenticate` challenge.
        users: user name (bytes as sent) -> password hash.
    """

    realm: str
    users: tuple[tuple[bytes, bytes], ...] = attrs.field(repr=False)
    _index: dict[bytes, bytes] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", dict(self.users))

    def run(self, state: StepState) -> Answer | None:
        """401 with the challenge unless the credentials verify."""
        credentials = parse_basic_credentials(state.header("authorization"))
        if credentials is not None:
            user, password = credentials
            hashed = self._index.get(user)
            if hashed is not None:
                try:
                    accepted = verify_password(password, hashed)
                except HashUnavailable:
                    accepted = False
                if accepted:
                    # `proxy_set_header Authorization "";`: the upstream never sees it.
                    state.edit_request_headers(HeaderChanges(remove=("authorization",)))
                    return None
        realm = self.realm.replace("\\", "\\\\").replace('"', '\\"')
        return Answer(
            401,
            headers=(("www-authenticate", f'Basic realm="{realm}"'),),
            reason="authorization required",
        )


@attrs.frozen
class BasicAuthPlugin:
    """`auth-type: basic` with `auth-secret`, `auth-secret-type`, `auth-realm`.

    auth/main.go: no readable Secret, or one without an `auth` key (auth-file), is a
    `LocationDeniedError` (503); a Secret of another namespace is refused unless the
    controller allows cross-namespace resources (it does not by default). `digest` is
    not implemented here: its locations answer 503.
    """

    name: str = "nginx.ingress.kubernetes.io/auth-basic"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = nginx_annotations(
        "auth-type", "auth-secret", "auth-secret-type", "auth-realm"
    )
    phase: int = PHASE_ACCESS
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The BasicAuth step, or a denied location."""
        reader = AnnotationReader(ingress)
        if not reader.has("auth-type"):
            return NOTHING
        namespace = ingress.metadata.namespace

        def denied(
            annotation: str, reason: str, reads: frozenset[ObjectRef] = frozenset()
        ) -> Contribution:
            return reader.deny(annotation, reason, reads=reads)

        try:
            auth_type = reader.string("auth-type", validate_regex(_AUTH_TYPE))
            secret_type = _optional(reader, "auth-secret-type", validate_regex(_AUTH_SECRET_TYPE))
            realm = _optional(reader, "auth-realm", validate_regex(CHARS_WITH_SPACE))
        except Invalid as error:
            # A validation error of auth-type, auth-secret-type or auth-realm makes Parse
            # return it: Extract refuses the Ingress.
            return reader.refuse(error.annotation, error.reason)
        except Ignored as error:
            # An empty auth-type: Parse returns "invalid content", which Extract skips,
            # leaving the paths without authentication (as ingress-nginx does).
            return Contribution(
                problems=(reader.warning(error.annotation, f"{error.reason}: no authentication"),)
            )
        try:
            secret_name = reader.string("auth-secret", validate_regex(BASIC_CHARS))
        except (Invalid, Ignored) as error:
            return denied(
                error.annotation, f"error reading secret name from annotation: {error.reason}"
            )
        if auth_type is None or not _AUTH_TYPE.search(auth_type):
            return denied("auth-type", "invalid authentication type")
        if auth_type != "basic":
            # The template: `if eq $location.BasicDigestAuth.Type "basic"`, else digest.
            return denied("auth-type", "auth_digest is not implemented by ingresslib")
        if secret_name is None:
            return denied("auth-secret", "error reading secret name from annotation: missing")
        secret_namespace, slash, name = secret_name.rpartition("/")
        if not slash:
            secret_namespace = namespace
        elif secret_name.count("/") > 1 or not name:
            return denied(
                "auth-secret", f"error reading secret name from annotation: {secret_name!r}"
            )
        secret_namespace = secret_namespace or namespace
        if secret_namespace != namespace:
            return denied("auth-secret", "cross namespace usage of secrets is not allowed")
        ref = ("Secret", secret_namespace, name)
        reads = frozenset({ref})
        secret = context.secrets.get((secret_namespace, name))
        if secret is None:
            return denied(
                "auth-secret",
                f"unexpected error reading secret {secret_namespace}/{name}: not found",
                reads,
            )
        if (secret_type or "auth-file") == "auth-file":
            content = secret.data.get("auth")
            if content is None:
                return denied(
                    "auth-secret",
                    f"the secret {name} does not contain a key with value auth",
                    reads,
                )
            users = parse_htpasswd(content)
        else:
            # dumpSecretAuthMap: one "user:password" line per key of the Secret.
            users = parse_htpasswd(
                b"\n".join(k.encode() + b":" + v for k, v in secret.data.items())
            )
        step = BasicAuth(
            realm or "",
            tuple(
                (user.encode("utf-8", "surrogateescape"), hashed) for user, hashed in users.items()
            ),
        )
        return Contribution(filters=(step,), reads=reads)
