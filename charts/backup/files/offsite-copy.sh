#!/bin/sh
# Copies the Redis snapshots of the backup volume off site with rclone (PostgreSQL's backups go
# to their object store through the Barman Cloud Plugin, not through here).
# `rclone copy` only adds and updates, never deletes: what was copied stays until the bucket's
# own lifecycle rule expires it. Runs once, after each snapshot.
# Environment: BACKUP_ROOT, OFFSITE_REMOTE (e.g. "offsite:bucket/production");
# the remote itself is configured by RCLONE_CONFIG_OFFSITE_* variables (credentials from a Secret).
# POSIX sh: runs in the Alpine rclone image.
set -eu

: "${BACKUP_ROOT:?}" "${OFFSITE_REMOTE:?}"
mkdir -p "${BACKUP_ROOT}/redis" "${BACKUP_ROOT}/status"
# Snapshots only once verified (their final name starts with a digit), never .incomplete-*.
rclone copy --include '/2*.rdb' "${BACKUP_ROOT}/redis" "${OFFSITE_REMOTE}/redis"
rclone copy "${BACKUP_ROOT}/status" "${OFFSITE_REMOTE}/status"
