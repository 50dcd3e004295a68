#!/usr/bin/env bash
# Checks a recovery Cluster once it is up: waits (bounded) until it accepts connections and has
# left recovery, finds the WAL its base backup started at (backup_label.old, which recovery
# leaves in the data directory), and runs verify-recovery.sh against the archive listing that
# list-archive.sh wrote. Exits non-zero, loudly, when the restore fell short of the archive or
# of its target.
#
# Environment: libpq settings of the recovery Cluster (PGHOST, PGUSER=supabase_admin, ...),
# RECOVERY_TARGET (latest | an RFC 3339 time | an LSN), WORK (list-archive.sh's folder),
# SCRIPTS (where verify-recovery.sh is), CHECK_WAIT_SECONDS (default 3600).
set -euo pipefail

: "${RECOVERY_TARGET:?}" "${WORK:?}" "${SCRIPTS:?}"
wait_seconds=${CHECK_WAIT_SECONDS:-3600}
deadline=$(($(date +%s) + wait_seconds))
until [[ $(psql -X -At -c 'SELECT NOT pg_is_in_recovery()' 2>/dev/null || true) == t ]]; do
  if (($(date +%s) > deadline)); then
    echo "check-recovery: ${PGHOST:-the recovery Cluster} did not come up out of recovery within ${wait_seconds}s" >&2
    exit 1
  fi
  sleep 5
done

label=$(psql -X -At -v ON_ERROR_STOP=1 -c "SELECT pg_read_file('backup_label.old')")
start_wal=$(sed -n 's/^START WAL LOCATION: .* (file \([0-9A-F]\{24\}\))$/\1/p' <<<"$label")
if [[ -z $start_wal ]]; then
  echo "check-recovery: backup_label.old names no start WAL; cannot tell which segments the restore needed" >&2
  exit 1
fi
echo "check-recovery: the base backup started at $start_wal"

newest=$(find "$WORK/newest" -maxdepth 1 -type f -name '[0-9A-F]*' | head -n 1)
export WAL_LISTING=$WORK/wal-listing BACKUP_START_WAL=$start_wal
if [[ $RECOVERY_TARGET == latest ]]; then export NEWEST_SEGMENT_FILE=$newest; fi
exec bash "$SCRIPTS/verify-recovery.sh"
