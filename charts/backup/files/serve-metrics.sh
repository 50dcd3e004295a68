#!/bin/sh
# The backup volume's metrics for Prometheus, beside the WAL streamer: when the newest verified
# backup of each kind finished (from status/last-<kind>-backup, which the backup scripts write)
# and when the WAL stream last wrote a file (the current .partial grows as WAL arrives), and the
# last restore drill's result (status/restore-drill.prom). A loop
# rewrites metrics/backup.prom every 15 seconds; rclone serves that folder read-only over HTTP.
# POSIX sh: runs in the Alpine rclone image.
set -eu

: "${BACKUP_ROOT:?}" "${METRICS_PORT:?}"
out="${BACKUP_ROOT}/metrics"
mkdir -p "$out"

write() {
  echo '# HELP platform_backup_last_success_timestamp_seconds When the newest verified backup of each kind finished.'
  echo '# TYPE platform_backup_last_success_timestamp_seconds gauge'
  for kind in base redis; do
    file="${BACKUP_ROOT}/status/last-${kind}-backup"
    if [ -f "$file" ]; then
      echo "platform_backup_last_success_timestamp_seconds{kind=\"${kind}\"} $(cut -d ' ' -f 1 "$file")"
    fi
  done
  newest=0
  for file in "${BACKUP_ROOT}"/wal/*; do
    [ -f "$file" ] || continue
    time=$(stat -c %Y "$file")
    if [ "$time" -gt "$newest" ]; then newest=$time; fi
  done
  # The weekly restore drill writes its own result (restore-drill.sh).
  if [ -f "${BACKUP_ROOT}/status/restore-drill.prom" ]; then
    cat "${BACKUP_ROOT}/status/restore-drill.prom"
  fi
  if [ "$newest" -gt 0 ]; then
    echo '# HELP platform_backup_wal_last_segment_timestamp_seconds When the WAL stream last wrote to the backup volume.'
    echo '# TYPE platform_backup_wal_last_segment_timestamp_seconds gauge'
    echo "platform_backup_wal_last_segment_timestamp_seconds ${newest}"
  fi
}

(
  while true; do
    write >"${out}/.backup.prom" && mv "${out}/.backup.prom" "${out}/backup.prom"
    sleep 15
  done
) &
exec rclone serve http "$out" --addr ":${METRICS_PORT}" --read-only
