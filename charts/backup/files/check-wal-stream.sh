#!/usr/bin/env bash
# Probe of the WAL streamer. Ready: the database reports our replication slot active, so
# pg_receivewal is connected and receiving. With --liveness, an unreachable database is not the
# streamer's fault (restarting it would not help), so only "reachable but slot inactive" fails.
set -euo pipefail

active=$(psql -X -At -v ON_ERROR_STOP=1 -d postgres \
  -c "SELECT active FROM pg_replication_slots WHERE slot_name = '${WAL_SLOT}'" 2>/dev/null) || {
  if [ "${1:-}" = "--liveness" ]; then exit 0; fi
  echo "database unreachable" >&2
  exit 1
}
if [ "$active" != "t" ]; then
  echo "replication slot ${WAL_SLOT} is not active (got '${active}')" >&2
  exit 1
fi
