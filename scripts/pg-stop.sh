#!/usr/bin/env bash
# Stops the PostgreSQL started by scripts/pg-start.sh (reads LLIGALL_PG_DIR and LLIGALL_PG_BIN).
set -u
[ -n "${LLIGALL_PG_DIR:-}" ] || exit 0
su postgres -s /bin/sh -c "$LLIGALL_PG_BIN/pg_ctl -D $LLIGALL_PG_DIR/data -m fast stop" >/dev/null 2>&1 || true
rm -rf "$LLIGALL_PG_DIR"
