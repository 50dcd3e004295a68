#!/usr/bin/env bash
# The WAL streamer: receives PostgreSQL's WAL as it is written, into $BACKUP_ROOT/wal, through a
# physical replication slot. This is what bounds the RPO to seconds: with --synchronous,
# pg_receivewal flushes every message to disk as it arrives and reports that flush position, so
# after a crash of the database the WAL up to its last moments is on the backup volume (the
# current segment as <segment>.partial, which restore-postgres.sh knows how to use).
#
# The slot makes the server keep WAL until we have flushed it, so an outage of this pod loses
# nothing (the primary's pg_wal grows instead; an alert watches the slot). No compression (-Z):
# restore_command copies segments straight from this directory.
#
# Environment: PGHOST, PGPORT, PGUSER (a REPLICATION role), PGPASSWORD, BACKUP_ROOT, WAL_SLOT;
# optional WAL_STREAM_RETRY_SECONDS (default 5): the wait between attempts to create the slot.
set -euo pipefail

: "${BACKUP_ROOT:?stream-wal.sh: set BACKUP_ROOT to the backup volume}"
: "${WAL_SLOT:?stream-wal.sh: set WAL_SLOT to the replication slot name}"
retry=${WAL_STREAM_RETRY_SECONDS:-5}
wal_dir=$BACKUP_ROOT/wal

log() { printf '%s stream-wal: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }

mkdir -p "$wal_dir" "$BACKUP_ROOT/status"

# The database may not be up yet (this pod can start first): keep trying rather than crash-loop
# into Kubernetes' growing back-off. --if-not-exists makes a restart of this pod harmless.
until pg_receivewal --create-slot --if-not-exists --slot="$WAL_SLOT"; do
  log "cannot create or find replication slot ${WAL_SLOT} on ${PGHOST:-local}:${PGPORT:-5432} yet; retrying in ${retry}s"
  sleep "$retry"
done

log "streaming WAL from ${PGHOST:-local}:${PGPORT:-5432} as ${PGUSER:-$(id -un)} via slot ${WAL_SLOT} into ${wal_dir}"
# pg_receivewal resumes where the directory (or the slot) left off and reconnects forever on its
# own after a lost connection; exec makes it the container's main process, so a stop signal
# reaches it directly.
exec pg_receivewal --directory="$wal_dir" --slot="$WAL_SLOT" --synchronous --no-password --verbose
