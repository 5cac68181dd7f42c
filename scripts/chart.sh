#!/usr/bin/env bash
# Builds a real helm (cached outside the checkout), lints and renders the chart over every
# values file in deploy/helm/consilium/ci/, and validates each rendered object offline.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CONSILIUM_CACHE:-$HOME/.cache/consilium}"
HELM_VERSION=v3.22.0
KUBE_VERSION="${CONSILIUM_KUBE_VERSION:-1.33.0}"
HELM_DIR="$CACHE/helm-$HELM_VERSION"
HELM="$HELM_DIR/bin/helm"
CHART=deploy/helm/consilium

ensure_helm() {
  # `go install` builds without helm's release ldflags (it reports only "v3.22"), so a stamp
  # written after a good build says which version the cached binary is.
  if [[ -x "$HELM" && "$(cat "$HELM_DIR/.version" 2>/dev/null)" == "$HELM_VERSION" ]]; then
    return
  fi
  command -v go >/dev/null || { echo "go is required to build helm" >&2; exit 1; }
  echo "==> building helm $HELM_VERSION into $HELM_DIR (about 2 minutes, once)"
  mkdir -p "$HELM_DIR/bin"
  # GOPATH/GOBIN in the cache: a fresh clone on a warm machine reuses the binary.
  GOPATH="$CACHE/go" GOBIN="$HELM_DIR/bin" GOFLAGS=-modcacherw CGO_ENABLED=0 \
    go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  "$HELM" version --short >/dev/null
  echo "$HELM_VERSION" >"$HELM_DIR/.version"
}

ensure_helm
if [[ "${1:-}" == "--helm-only" ]]; then
  echo "$HELM"
  exit 0
fi

[[ -x .venv/bin/kubernetes-validate ]] || bash scripts/bootstrap.sh
OUT=dist/chart
rm -rf "$OUT"
mkdir -p "$OUT"
for values in "$CHART"/ci/*-values.yaml; do
  name=$(basename "$values" -values.yaml)
  echo "==> $name: helm lint --strict, helm template (Kubernetes $KUBE_VERSION)"
  "$HELM" lint --strict --quiet "$CHART" -f "$values" --kube-version "$KUBE_VERSION" >/dev/null \
    || { "$HELM" lint --strict "$CHART" -f "$values" --kube-version "$KUBE_VERSION"; exit 1; }
  "$HELM" template consilium "$CHART" -f "$values" --namespace consilium \
    --kube-version "$KUBE_VERSION" >"$OUT/$name.yaml"
done
.venv/bin/python deploy/helm/validate.py --kube-version "$KUBE_VERSION" "$OUT"/*.yaml
