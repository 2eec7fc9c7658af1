#!/bin/sh
# One-shot: create Temporal's two databases and bring their schemas up to the
# version this admin-tools image ships. Safe to rerun on every `up`:
# `create` and `setup-schema -v 0.0` are no-ops on an existing database, and
# `update-schema` applies only the versions not yet recorded.
set -eu

SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

# The password comes from SQL_PASSWORD in the environment, not the command line.
sql() {
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" "$@"
}

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) dir="$SCHEMA_DIR/temporal/versioned" ;;
    *) dir="$SCHEMA_DIR/visibility/versioned" ;;
  esac
  echo "temporal-schema: $db"
  sql --db "$db" create
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "$dir"
done
echo 'temporal-schema: done'
