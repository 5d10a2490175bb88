// Wrapper module that pins the Gateway API release whose CRDs tests/kubernetes installs
// into the test kube-apiserver. Read by scripts/gateway-api-crds.sh; never built.
//
// Only the module's files are used (config/crd/standard/*.yaml); no package is
// imported, so go.sum holds the module's own two hashes only.
module github.com/ingresslib/ingresslib/tools/gateway-api

go 1.26.0

require sigs.k8s.io/gateway-api v1.6.1
