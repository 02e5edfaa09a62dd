#!/usr/bin/env bash
# Starts a local PostgreSQL for weir's tests and prints the URL to use:
#
#     eval "$(scripts/postgres.sh)"     # sets WEIR_TEST_POSTGRES_URL
#     cargo test -p weir-store
#
# Installs the Debian `postgresql` package if the server is missing, starts (or creates) the
# Debian cluster, and creates the superuser role `weir` (password `weir`) and the database `weir`.
# Safe to run again at any time. Progress goes to stderr; stdout carries only the export line.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}

server_installed() {
    command -v pg_lsclusters >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

if ! server_installed; then
    log "installing PostgreSQL (apt-get)"
    as_root apt-get update >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
fi

# The first cluster pg_lsclusters lists: "VERSION NAME PORT STATUS OWNER DATA LOG".
cluster=$(pg_lsclusters --no-header | head -n 1)
if [ -z "$cluster" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    log "creating cluster $version/main"
    as_root pg_createcluster "$version" main >&2
    cluster=$(pg_lsclusters --no-header | head -n 1)
fi
read -r version name port status _ <<<"$cluster"

case "$status" in
    online*) ;;
    *)
        log "starting cluster $version/$name on port $port"
        as_root pg_ctlcluster "$version" "$name" start >&2
        ;;
esac

for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$port"; then break; fi
    sleep 0.5
done
if ! pg_isready -q -h 127.0.0.1 -p "$port"; then
    log "cluster $version/$name does not accept connections on port $port; see /var/log/postgresql/"
    exit 1
fi

psql_admin() {
    # cd: psql as postgres must not start in a directory it cannot read.
    (cd / && as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -qAt "$@")
}

# Superuser so that tests can create and drop a database each.
psql_admin -c "
DO \$\$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'weir') THEN
        ALTER ROLE weir WITH LOGIN SUPERUSER CREATEDB PASSWORD 'weir';
    ELSE
        CREATE ROLE weir WITH LOGIN SUPERUSER CREATEDB PASSWORD 'weir';
    END IF;
END
\$\$;" >&2

if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'weir'")" != "1" ]; then
    log "creating database weir"
    psql_admin -c "CREATE DATABASE weir OWNER weir" >&2
fi

log "ready: cluster $version/$name on port $port"
echo "export WEIR_TEST_POSTGRES_URL=postgres://weir:weir@127.0.0.1:$port/weir"
