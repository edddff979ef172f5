# Sourced by scripts/setup and scripts/test: install Debian packages only when they are missing.
# shellcheck shell=bash

# Run a command as root: directly when we are root (CI containers), else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "error: need root to run: $*  (run this script as root, or install sudo)" >&2
    exit 1
  fi
}

# apt_install PACKAGE...: installs those not installed yet; silent when all are.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    # dpkg -s also succeeds for a removed package whose config is kept: ask for "installed".
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "error: not a Debian/Ubuntu system; install these yourself: ${missing[*]}" >&2
    exit 1
  fi
  echo "== installing Debian packages: ${missing[*]}"
  # Once per run: a fresh machine (or container) has no package lists at all.
  if [ -z "${APT_UPDATED:-}" ]; then
    as_root apt-get update -qq
    APT_UPDATED=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
