#!/bin/sh
# Copies the Redis snapshots of the backup volume off site with rclone (PostgreSQL's backups go
# to their object store through the Barman Cloud Plugin, not through here).
# `rclone copy` only adds and updates, never deletes: what was copied stays until the bucket's
# own lifecycle rule expires it. Runs once after each snapshot (--once), or in a loop
# (OFFSITE_INTERVAL seconds between rounds).
# Environment: BACKUP_ROOT, OFFSITE_REMOTE (e.g. "offsite:bucket/production"), OFFSITE_INTERVAL;
# the remote itself is configured by RCLONE_CONFIG_OFFSITE_* variables (credentials from a Secret).
# POSIX sh: runs in the Alpine rclone image.
set -eu

: "${BACKUP_ROOT:?}" "${OFFSITE_REMOTE:?}"
interval="${OFFSITE_INTERVAL:-30}"

round() {
  # Snapshots only once verified (their final name starts with a digit), never .incomplete-*.
  rclone copy --include '/2*.rdb' "${BACKUP_ROOT}/redis" "${OFFSITE_REMOTE}/redis" &&
    rclone copy "${BACKUP_ROOT}/status" "${OFFSITE_REMOTE}/status"
}

mkdir -p "${BACKUP_ROOT}/redis" "${BACKUP_ROOT}/status"
if [ "${1:-}" = "--once" ]; then
  round
  exit
fi
while true; do
  if round; then
    date -u +%s >"${BACKUP_ROOT}/status/last-offsite-copy"
  else
    echo "offsite-copy: round failed, retrying in ${interval}s" >&2
  fi
  sleep "$interval"
done
