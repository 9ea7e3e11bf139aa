#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: Prometheus + promtool, Alertmanager + amtool, Node.js
# with the OpenTelemetry JS exporters (tests/node-exporters, from its package-lock.json), Helm, headless Chromium with
# chromedriver (browser tests of the collector's pages).
# Debian names the Alertmanager binary prometheus-alertmanager; tests look for both names.
# PostgreSQL 15 is expected on the machine (initdb/pg_ctl); tests start a throwaway cluster themselves.
# Idempotent: skips what is already there.
set -euo pipefail

need_apt=()
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
command -v amtool >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # --no-install-recommends keeps the install small; the Debian packages start services we do not use.
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # The packages' own daemons would hold :9090/:9093; tests start their own instances on free ports.
  for svc in prometheus prometheus-alertmanager; do
    (command -v service >/dev/null && $SUDO service "$svc" stop >/dev/null 2>&1) || true
  done
fi

if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# Node.js and the OpenTelemetry JS exporters the collector tests run as real producers (tests/node-exporters).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
node_fixture="$(dirname "$0")/../tests/node-exporters"
if [ ! -d "$node_fixture/node_modules" ] || [ "$node_fixture/package-lock.json" -nt "$node_fixture/node_modules/.package-lock.json" ]; then
  (cd "$node_fixture" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# Headless Chromium and Debian's matching chromedriver for the collector's browser tests of the /ui/ pages
# (Selenium drives /usr/bin/chromedriver; the browser downloads of Selenium Manager or Puppeteer need the internet).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
fi

# Helm for the chart tests, into .tools/ (tests look there, or at $PERFOTEL_HELM).
bash "$(dirname "$0")/install-helm.sh" >/dev/null

echo "test dependencies: node $(node --version), $(chromium --version 2>/dev/null | head -1), prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}'), alertmanager $(prometheus-alertmanager --version 2>&1 | head -1 | awk '{print $3}'), helm $("$(dirname "$0")/../.tools/helm/helm" version --short)"
