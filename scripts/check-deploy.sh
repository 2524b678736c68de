#!/usr/bin/env bash
# Validates deploy/ offline: Kubernetes manifests against the API schemas in the npm package kubernetes-models,
# the Dockerfile with dockerfile-utils' linter; both installed into a temporary folder, not into the project.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
npm install --prefix "$tools" --no-audit --no-fund --silent kubernetes-models@5 yaml@2 dockerfile-utils@0.16 >/dev/null
cp "$root/scripts/check-deploy.mjs" "$tools/"
node "$tools/check-deploy.mjs" "$root"
