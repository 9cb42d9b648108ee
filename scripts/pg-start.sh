#!/usr/bin/env bash
# Starts a throwaway PostgreSQL (Debian's) for tests and CI, with the two roles Lligall uses:
#   lligall_owner  owns the database and runs migrations
#   lligall_app    NOSUPERUSER NOBYPASSRLS, what the server connects as
# Prints the environment to export. Usage: eval "$(bash scripts/pg-start.sh [port])"
set -euo pipefail
PORT=${1:-54329}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
D=$(mktemp -d /tmp/lligall-pg.XXXXXX)
mkdir -p "$D/data" "$D/sock"
chown -R postgres:postgres "$D"
su postgres -s /bin/sh -c "$PGBIN/initdb -D $D/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null"
su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $D/data -l $D/sock/log -w -o '-p $PORT -k $D/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' start >/dev/null"
psql -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE ROLE lligall_owner LOGIN CREATEDB PASSWORD 'owner';
CREATE ROLE lligall_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD 'app';
GRANT lligall_app TO lligall_owner;
CREATE DATABASE lligall OWNER lligall_owner;
SQL
echo "export LLIGALL_PG_DIR=$D"
echo "export LLIGALL_PG_BIN=$PGBIN"
echo "export DATABASE_URL=postgres://lligall_app:app@127.0.0.1:$PORT/lligall"
echo "export DATABASE_OWNER_URL=postgres://lligall_owner:owner@127.0.0.1:$PORT/lligall"
echo "export LLIGALL_TEST_PG_ADMIN_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
