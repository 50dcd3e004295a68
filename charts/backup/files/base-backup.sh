#!/usr/bin/env bash
# One base backup: pg_basebackup in plain format (the only format PostgreSQL 15's
# pg_verifybackup checks) with the WAL it needs streamed alongside (-X stream), so the backup is
# restorable on its own, and a SHA-256 manifest. It is written under base/.incomplete-<ts> and
# becomes base/<ts> only after pg_verifybackup passed, so anything named base/<ts> is a
# verified backup; then status/last-base-backup is updated and prune-backups.sh runs.
#
# <ts> is the UTC start time (YYYYMMDDTHHMMSSZ), which retention reads; the backup_manifest
# file's modification time is when the backup ended, which restore-postgres.sh reads to pick a
# backup for a point in time.
#
# Environment: PGHOST, PGPORT, PGUSER (a REPLICATION role), PGPASSWORD, BACKUP_ROOT, plus
# RETAIN_COUNT and RETAIN_DAYS for the pruning (see prune-backups.sh).
set -euo pipefail

: "${BACKUP_ROOT:?base-backup.sh: set BACKUP_ROOT to the backup volume}"
# Checked now rather than by the pruning at the end, hours later.
: "${RETAIN_COUNT:?base-backup.sh: set RETAIN_COUNT (see prune-backups.sh)}" "${RETAIN_DAYS:?base-backup.sh: set RETAIN_DAYS (see prune-backups.sh)}"

log() { printf '%s base-backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
fail() { printf '%s base-backup: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; exit 1; }

base_dir=$BACKUP_ROOT/base
status_dir=$BACKUP_ROOT/status
mkdir -p "$base_dir" "$status_dir"

name=$(date -u +%Y%m%dT%H%M%SZ)
work=$base_dir/.incomplete-$name
final=$base_dir/$name
if [ -e "$final" ] || [ -e "$work" ]; then
  fail "$final already exists (another backup started in the same second?); not overwriting it"
fi

# An interrupted or failed run leaves nothing that could be mistaken for a backup.
trap 'rm -rf "$work"' EXIT

log "starting base backup ${name} of ${PGHOST:-local}:${PGPORT:-5432} into ${work}"
# -c fast: an immediate checkpoint, so the backup starts now rather than after a spread one.
pg_basebackup --pgdata="$work" --format=plain --wal-method=stream --checkpoint=fast \
  --manifest-checksums=SHA256 --label="platform base backup ${name}" --no-password --verbose

# Checks every file against the manifest and parses the WAL the backup needs (in its pg_wal).
if ! report=$(pg_verifybackup "$work" 2>&1); then
  fail "backup ${name} failed verification and was discarded: ${report}"
fi
log "verified: ${report}"

mv "$work" "$final"
trap - EXIT
# Written to a temporary file and renamed, so readers never see half a line.
printf '%s %s\n' "$(date -u +%s)" "$name" >"$status_dir/.last-base-backup.tmp"
mv "$status_dir/.last-base-backup.tmp" "$status_dir/last-base-backup"
log "base backup ${name} complete ($(du -sh "$final" | cut -f1))"

bash "$(dirname "$0")/prune-backups.sh"
