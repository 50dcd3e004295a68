#!/bin/sh
# Copies the backup volume off site with rclone: streamed WAL (the current .partial too, so the
# copy lags the database by at most one interval), verified base backups, logical dumps and
# Redis snapshots.
# `rclone copy` only adds and updates, never deletes: what was copied stays until the bucket's
# own lifecycle rule expires it. Runs in a loop beside the WAL streamer (OFFSITE_INTERVAL
# seconds between rounds), or once with --once.
# Environment: BACKUP_ROOT, OFFSITE_REMOTE (e.g. "offsite:bucket/production"), OFFSITE_INTERVAL;
# the remote itself is configured by RCLONE_CONFIG_OFFSITE_* variables (credentials from a Secret).
# POSIX sh: runs in the Alpine rclone image.
set -eu

: "${BACKUP_ROOT:?}" "${OFFSITE_REMOTE:?}"
interval="${OFFSITE_INTERVAL:-30}"

round() {
  # Base backups only once verified (their final name starts with a digit), never .incomplete-*.
  rclone copy --no-traverse --include '/2*/**' "${BACKUP_ROOT}/base" "${OFFSITE_REMOTE}/base" &&
    rclone copy "${BACKUP_ROOT}/wal" "${OFFSITE_REMOTE}/wal" &&
    rclone copy --no-traverse --include '/2*/**' "${BACKUP_ROOT}/dump" "${OFFSITE_REMOTE}/dump" &&
    rclone copy --include '/2*.rdb' "${BACKUP_ROOT}/redis" "${OFFSITE_REMOTE}/redis" &&
    rclone copy "${BACKUP_ROOT}/status" "${OFFSITE_REMOTE}/status"
}

mkdir -p "${BACKUP_ROOT}/base" "${BACKUP_ROOT}/wal" "${BACKUP_ROOT}/dump" "${BACKUP_ROOT}/redis" "${BACKUP_ROOT}/status"
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
