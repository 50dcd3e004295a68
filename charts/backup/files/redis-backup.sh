#!/bin/sh
# Redis backup: asks the server for a fresh RDB snapshot over the network (redis-cli --rdb, the
# replication handshake: the server forks a BGSAVE and streams the result), checks it with
# redis-check-rdb, keeps it only if it checks out, then keeps the REDIS_RETAIN_COUNT newest.
# The password comes from REDISCLI_AUTH, which redis-cli reads without showing it in `ps`.
# POSIX sh: the Redis image is Alpine (busybox), without bash.
set -eu

: "${REDIS_HOST:?}" "${REDIS_PORT:?}" "${BACKUP_ROOT:?}" "${REDIS_RETAIN_COUNT:?}"
dir="${BACKUP_ROOT}/redis"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="${dir}/.incomplete-${stamp}.rdb"
final="${dir}/${stamp}.rdb"
mkdir -p "$dir" "${BACKUP_ROOT}/status"
trap 'rm -f "$partial"' EXIT

echo "redis-backup: snapshot of ${REDIS_HOST}:${REDIS_PORT} into ${final}"
redis-cli --no-auth-warning -h "$REDIS_HOST" -p "$REDIS_PORT" --rdb "$partial"

check=$(redis-check-rdb "$partial" 2>&1) || true
case "$check" in
  *'RDB looks OK'*) ;;
  *)
    echo "redis-backup: the snapshot failed redis-check-rdb, not kept:" >&2
    echo "$check" >&2
    exit 1
    ;;
esac
mv "$partial" "$final"
echo "$(date -u +%s) ${stamp}.rdb" >"${BACKUP_ROOT}/status/last-redis-backup"
echo "redis-backup: ${final} verified ($(wc -c <"$final") bytes)"

# Newest first (names are UTC timestamps); the snapshot just taken is always kept.
for file in "$dir"/2*Z.rdb; do
  [ -e "$file" ] && echo "$file"
done | sort -r | tail -n +"$((REDIS_RETAIN_COUNT + 1))" | while read -r old; do
  echo "redis-backup: removing ${old} (keeping the ${REDIS_RETAIN_COUNT} newest)"
  rm -f "$old"
done
