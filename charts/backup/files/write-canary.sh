#!/usr/bin/env bash
# The backup canary, beside the WAL streamer: adds one row to ops.backup_canary every
# CANARY_INTERVAL_SECONDS. The weekly restore drill (restore-drill.sh) counts and checksums these
# rows in a restored copy and compares them with the database, so every drill proves that writes
# of the last week reached the backups. A failed insert (database down, table not created yet) is
# logged and retried at the next tick; the loop never exits on its own.
# Each tick touches $TMPDIR/canary-alive, and each row written $TMPDIR/canary-written: the
# container's probes read their age.
#
# Environment: PGHOST, PGPORT, PGUSER (platform_backup), PGPASSWORD; optional PGDATABASE (default
# postgres), CANARY_INTERVAL_SECONDS (default 60), HOSTNAME (recorded as the writer).
set -uo pipefail

interval=${CANARY_INTERVAL_SECONDS:-60}
if ! [[ $interval =~ ^[0-9]+$ ]] || [ "$interval" -lt 1 ]; then
  echo "write-canary.sh: CANARY_INTERVAL_SECONDS must be a whole number of seconds, 1 or more; got '${interval}'" >&2
  exit 1
fi
writer=${HOSTNAME:-backup-canary}
marks=${TMPDIR:-/tmp}

log() { printf '%s write-canary: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

# A stop signal ends the wait at once instead of after the sleep.
trap 'log "stopping"; exit 0' TERM INT

log "writing a canary row to ops.backup_canary every ${interval}s as ${PGUSER:-$(id -un)}"
while true; do
  if ! out=$(psql -X -q -v ON_ERROR_STOP=1 -v writer="$writer" -d "${PGDATABASE:-postgres}" 2>&1 <<'SQL'
INSERT INTO ops.backup_canary (writer, payload) VALUES (:'writer', md5(random()::text || clock_timestamp()::text));
SQL
  ); then
    log "insert failed, retrying in ${interval}s: ${out//$'\n'/ }"
  else
    touch "$marks/canary-written"
  fi
  touch "$marks/canary-alive"
  sleep "$interval" &
  wait $!
done
