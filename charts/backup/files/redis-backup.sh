#!/bin/sh
# Redis backup: asks a replica (the only instance when there is one) for a fresh RDB snapshot over
# the network (redis-cli --rdb, the replication handshake: the replica forks a BGSAVE and streams
# the result, so the primary's latency is untouched), checks it with
# redis-check-rdb and then by loading it into a scratch redis-server as a restore would
# (redis-load-check.sh), keeps it only if both pass, then keeps the REDIS_RETAIN_COUNT newest
# (at least 1; the snapshot just taken is never deleted).
# The password comes from REDISCLI_AUTH, which redis-cli reads without showing it in `ps`.
# POSIX sh: the Redis image is Alpine (busybox), without bash.
set -eu

: "${REDIS_HOSTS:?}" "${BACKUP_ROOT:?}" "${REDIS_RETAIN_COUNT:?}"
dir="${BACKUP_ROOT}/redis"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
partial="${dir}/.incomplete-${stamp}.rdb"
final="${dir}/${stamp}.rdb"
check_dir="${dir}/.check-${stamp}"
case "$REDIS_RETAIN_COUNT" in
  '' | *[!0-9]*) retain_ok=false ;;
  *) if [ "$REDIS_RETAIN_COUNT" -ge 1 ]; then retain_ok=true; else retain_ok=false; fi ;;
esac
if [ "$retain_ok" != true ]; then
  echo "redis-backup: REDIS_RETAIN_COUNT is '${REDIS_RETAIN_COUNT}': it must be a whole number of at least 1 (backup.redis.retainCount); nothing taken or deleted" >&2
  exit 2
fi
if [ -e "$final" ]; then
  echo "redis-backup: ${final} exists already (two runs in one second?): not overwritten, run again" >&2
  exit 1
fi
mkdir -p "$dir" "${BACKUP_ROOT}/status"
trap 'rm -rf "$partial" "$check_dir"' EXIT
# What a run killed mid-way left (its trap did not run): never a kept snapshot.
for stale in "$dir"/.incomplete-*.rdb "$dir"/.check-*; do
  [ -e "$stale" ] || continue
  echo "redis-backup: removing ${stale}, left by an interrupted run"
  rm -rf "$stale"
done

# REDIS_HOSTS: "host:port" of every instance. With one, that one; with several, the first replica
# whose link to the primary is up and not resyncing. None: no backup, rather than fork the primary.
# shellcheck disable=SC2086 # split into one argument per instance
set -- $REDIS_HOSTS
source=''
if [ "$#" -eq 1 ]; then
  source=$1
else
  for instance in "$@"; do
    info=$(timeout 5 redis-cli --no-auth-warning -h "${instance%:*}" -p "${instance##*:}" INFO replication 2>/dev/null | tr -d '\r') || continue
    case "$info" in
      *role:slave*master_link_status:up*master_sync_in_progress:0*)
        source=$instance
        break
        ;;
    esac
  done
  if [ -z "$source" ]; then
    echo "redis-backup: no replica of ${REDIS_HOSTS} is in sync with the primary: no snapshot taken (the primary is never forked for a backup); see docs/runbooks/redis-failover.md" >&2
    exit 1
  fi
fi

echo "redis-backup: snapshot of ${source} into ${final}"
redis-cli --no-auth-warning -h "${source%:*}" -p "${source##*:}" --rdb "$partial"

check=$(redis-check-rdb "$partial" 2>&1) || true
case "$check" in
  *'RDB looks OK'*) ;;
  *)
    echo "redis-backup: the snapshot failed redis-check-rdb, not kept:" >&2
    echo "$check" >&2
    exit 1
    ;;
esac
sh "$(dirname "$0")/redis-load-check.sh" "$partial" "$check_dir" || {
  echo "redis-backup: a scratch redis-server did not load the snapshot, not kept" >&2
  exit 1
}
rm -rf "$check_dir"
mv "$partial" "$final"
echo "$(date -u +%s) ${stamp}.rdb" >"${BACKUP_ROOT}/status/last-redis-backup"
echo "redis-backup: ${final} verified ($(wc -c <"$final") bytes)"

# Newest first (names are UTC timestamps); the snapshot just taken is never a candidate.
for file in "$dir"/2*Z.rdb; do
  [ -e "$file" ] && [ "$file" != "$final" ] && echo "$file"
done | sort -r | tail -n +"$REDIS_RETAIN_COUNT" | while read -r old; do
  echo "redis-backup: removing ${old} (keeping the ${REDIS_RETAIN_COUNT} newest)"
  rm -f "$old"
done
