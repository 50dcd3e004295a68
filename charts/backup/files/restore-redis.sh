#!/bin/sh
# Restores Redis from one RDB snapshot of the backup volume into its data directory, with Redis
# stopped. Redis 7 with appendonly on loads only the AOF and ignores dump.rdb, so the snapshot
# becomes the base of a fresh multi-part AOF (appendonlydir/ with a base RDB, an empty
# increment and the manifest): Redis loads it with its normal configuration. The AOF is built
# beside the data first and a scratch redis-server must load it (redis-load-check.sh) before
# anything in the data directory moves. Whatever was there is moved aside into
# before-restore-<time>/, never deleted, and only with RESTORE_FORCE=true.
# POSIX sh: runs in the Alpine Redis image.
set -eu

: "${REDIS_DATA:?}" "${BACKUP_ROOT:?}"
snapshot="${RESTORE_SNAPSHOT:-latest}"
dir="${BACKUP_ROOT}/redis"

if [ "$snapshot" = latest ]; then
  snapshot=$(for f in "$dir"/2*Z.rdb; do [ -e "$f" ] && basename "$f"; done | sort -r | head -n 1)
  [ -n "$snapshot" ] || { echo "restore-redis: no snapshot in ${dir}: nothing to restore" >&2; exit 1; }
fi
source_file="${dir}/${snapshot}"
[ -f "$source_file" ] || { echo "restore-redis: snapshot ${source_file} does not exist" >&2; exit 1; }

check=$(redis-check-rdb "$source_file" 2>&1) || true
case "$check" in
  *'RDB looks OK'*) ;;
  *)
    echo "restore-redis: snapshot ${snapshot} failed redis-check-rdb: restore refused" >&2
    echo "$check" >&2
    exit 1
    ;;
esac

existing=""
for f in "$REDIS_DATA/appendonlydir" "$REDIS_DATA/dump.rdb"; do
  [ -e "$f" ] && existing="$existing $f"
done
if [ -n "$existing" ] && [ "${RESTORE_FORCE:-false}" != true ]; then
  echo "restore-redis: ${REDIS_DATA} holds data (${existing# }): set RESTORE_FORCE=true to move it aside and restore" >&2
  exit 1
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
staging="${REDIS_DATA}/.restore-staging-${stamp}"
trap 'rm -rf "$staging"' EXIT
# What a restore killed mid-way left (its trap did not run): a copy of a snapshot, never the data.
for stale in "${REDIS_DATA}"/.restore-staging-*; do
  [ -e "$stale" ] || continue
  echo "restore-redis: removing ${stale}, left by an interrupted restore"
  rm -rf "$stale"
done
sh "$(dirname "$0")/redis-load-check.sh" "$source_file" "$staging" || {
  echo "restore-redis: a scratch redis-server did not load snapshot ${snapshot}: restore refused, ${REDIS_DATA} untouched" >&2
  exit 1
}

if [ -n "$existing" ]; then
  aside="${REDIS_DATA}/before-restore-${stamp}"
  mkdir -p "$aside"
  for f in $existing; do mv "$f" "$aside/"; done
  echo "restore-redis: moved the previous data to ${aside} (delete it once the restore is confirmed)"
fi
mv "${staging}/appendonlydir" "${REDIS_DATA}/appendonlydir"
cp "$source_file" "${REDIS_DATA}/dump.rdb"
echo "restore-redis: ${REDIS_DATA} now holds snapshot ${snapshot}; start Redis"
