#!/usr/bin/env bash
# Install Debian's PostgreSQL and MariaDB servers for the lineage store tests
# (tests/databases.py starts throwaway servers from them on loopback; nothing here starts
# a service). Idempotent: does nothing when both servers' binaries are already there. Needs root
# (CI runs as root); otherwise it uses sudo when available.
set -euo pipefail

have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; }
have_mariadb() { [ -x /usr/sbin/mariadbd ] && command -v mariadb-install-db >/dev/null; }

if have_postgres && have_mariadb; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-databases.sh: need root (or sudo) to apt-get install postgresql and" \
             "mariadb-server" >&2
        exit 1
    fi
fi

packages=()
have_postgres || packages+=(postgresql)
have_mariadb || packages+=(mariadb-server mariadb-client)

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"
have_postgres && have_mariadb
