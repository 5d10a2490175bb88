"""The kube_apiserver fixture itself: a real kube-apiserver and etcd, over plain HTTPS."""

from __future__ import annotations

import http.client
import ssl
from typing import Any

import pytest
import yaml

from tests.kubernetes.conftest import KubeAPIServer, WatchRefusedError, k8s_version

INGRESSES = "/apis/networking.k8s.io/v1/namespaces/{}/ingresses"


def ingress(name: str, host: str = "shop.example.com") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "labels": {"app": "shop"}},
        "spec": {
            "ingressClassName": "ingresslib",
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/api",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "api", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


def create(server: KubeAPIServer, namespace: str, name: str) -> dict[str, Any]:
    response = server.request("POST", INGRESSES.format(namespace), ingress(name))
    assert response.status == 201, response
    body: dict[str, Any] = response.body
    return body


def test_serves_the_pinned_version(kube_apiserver: KubeAPIServer) -> None:
    response = kube_apiserver.request("GET", "/version")
    assert response.status == 200, response
    assert response.body["gitVersion"] == k8s_version()
    assert response.body["major"] == "1"
    assert response.body["minor"] == k8s_version().split(".")[1]


def test_admin_certificate_and_kubeconfig(kube_apiserver: KubeAPIServer) -> None:
    config = yaml.safe_load(kube_apiserver.kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"] == kube_apiserver.url
    assert config["users"][0]["user"]["client-certificate"] == str(kube_apiserver.client_cert)

    # system:masters may do anything, under RBAC.
    review = kube_apiserver.request(
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    assert review.status == 201, review
    assert review.body["status"]["userInfo"]["username"] == "admin"
    assert "system:masters" in review.body["status"]["userInfo"]["groups"]

    # Without a client certificate the caller is anonymous, and RBAC refuses it.
    anonymous = ssl.create_default_context(cafile=str(kube_apiserver.ca_cert))
    connection = http.client.HTTPSConnection("127.0.0.1", kube_apiserver.port, context=anonymous)
    try:
        connection.request("GET", "/api/v1/namespaces")
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status in (401, 403)


def test_create_an_ingress_and_read_it_back(kube_apiserver: KubeAPIServer, namespace: str) -> None:
    created = create(kube_apiserver, namespace, "shop")
    assert created["metadata"]["namespace"] == namespace
    assert int(created["metadata"]["resourceVersion"]) > 0

    got = kube_apiserver.request("GET", f"{INGRESSES.format(namespace)}/shop")
    assert got.status == 200, got
    assert got.body["spec"] == ingress("shop")["spec"]
    assert got.body["metadata"]["uid"] == created["metadata"]["uid"]

    missing = kube_apiserver.request("GET", f"{INGRESSES.format(namespace)}/nope")
    assert missing.status == 404
    assert missing.body["reason"] == "NotFound"


def test_list_carries_a_resource_version(kube_apiserver: KubeAPIServer, namespace: str) -> None:
    first = create(kube_apiserver, namespace, "a")
    create(kube_apiserver, namespace, "b")
    listed = kube_apiserver.request("GET", INGRESSES.format(namespace))
    assert listed.status == 200, listed
    assert listed.body["kind"] == "IngressList"
    assert [item["metadata"]["name"] for item in listed.body["items"]] == ["a", "b"]
    list_rv = int(listed.body["metadata"]["resourceVersion"])
    assert list_rv >= int(first["metadata"]["resourceVersion"])

    # The state as of the first create: an exact read of history (etcd's MVCC).
    exact = kube_apiserver.request(
        "GET",
        INGRESSES.format(namespace),
        query={
            "resourceVersion": first["metadata"]["resourceVersion"],
            "resourceVersionMatch": "Exact",
        },
    )
    assert exact.status == 200, exact
    assert [item["metadata"]["name"] for item in exact.body["items"]] == ["a"]

    selected = kube_apiserver.request(
        "GET", INGRESSES.format(namespace), query={"labelSelector": "app=other"}
    )
    assert selected.status == 200, selected
    assert selected.body["items"] == []


def test_watch_receives_added_events(kube_apiserver: KubeAPIServer, namespace: str) -> None:
    listed = kube_apiserver.request("GET", INGRESSES.format(namespace))
    rv = listed.body["metadata"]["resourceVersion"]
    with kube_apiserver.watch(
        INGRESSES.format(namespace), {"resourceVersion": rv, "allowWatchBookmarks": "true"}
    ) as events:
        created = create(kube_apiserver, namespace, "watched")
        event = next(e for e in events if e["type"] != "BOOKMARK")
    assert event["type"] == "ADDED"
    assert event["object"]["kind"] == "Ingress"
    assert event["object"]["metadata"]["name"] == "watched"
    assert event["object"]["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_apiserver_restarts_and_keeps_its_data(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    created = create(kube_apiserver, namespace, "durable")
    kube_apiserver.stop_apiserver()
    with pytest.raises(ConnectionRefusedError):
        kube_apiserver.request("GET", "/readyz", timeout=2)

    kube_apiserver.start_apiserver()
    assert kube_apiserver.request("GET", "/readyz").status == 200
    got = kube_apiserver.request("GET", f"{INGRESSES.format(namespace)}/durable")
    assert got.status == 200, got
    assert got.body["metadata"]["uid"] == created["metadata"]["uid"]


def test_compacted_history_answers_410_gone(kube_apiserver: KubeAPIServer, namespace: str) -> None:
    old_rv = create(kube_apiserver, namespace, "old")["metadata"]["resourceVersion"]
    create(kube_apiserver, namespace, "new")
    exact = {"resourceVersion": old_rv, "resourceVersionMatch": "Exact"}
    before = kube_apiserver.request("GET", INGRESSES.format(namespace), query=exact)
    assert before.status == 200, before

    compacted = kube_apiserver.compact_etcd()
    assert compacted > int(old_rv)
    # A restart empties the watch cache, so old revisions can only be read from etcd.
    kube_apiserver.restart_apiserver()

    after = kube_apiserver.request("GET", INGRESSES.format(namespace), query=exact)
    assert after.status == 410, after
    assert after.body["reason"] == "Expired"

    # A watch from the old resourceVersion: 410, as an HTTP status or as an ERROR event.
    try:
        with kube_apiserver.watch(
            INGRESSES.format(namespace), {"resourceVersion": old_rv}
        ) as events:
            event = next(events)
        assert event["type"] == "ERROR", event
        status = event["object"]
    except WatchRefusedError as refused:
        status = refused.response.body
    assert status["code"] == 410, status
    assert status["reason"] == "Expired"
