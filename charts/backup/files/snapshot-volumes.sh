#!/bin/sh
# Scheduled CSI VolumeSnapshots of the platform's volumes that the database backups do not cover
# (Grafana, Loki, Prometheus, and the Storage files in dev): for each claim it takes one snapshot
# named <claim>-<UTC YYYYmmdd-HHMMSS>, waits until the CSI driver reports it ready to use, then
# prunes that claim's older snapshots by count. A claim that fails (missing, not bound, snapshot
# refused or not ready in time) is reported and left unpruned, the others still run, and the job
# exits 1 at the end so the CronJob shows the failure.
#
# Pruning only ever touches snapshots this job made (both labels below) of the same claim. It keeps
# the SNAPSHOT_RETAIN_COUNT newest ready ones and deletes every other one older than the oldest
# kept: ready extras and failed leftovers. It deletes nothing while fewer than
# SNAPSHOT_RETAIN_COUNT are ready, never a snapshot newer than the oldest kept (it may still be in
# progress), and skips snapshots already being deleted.
#
# Environment:
#   SNAPSHOT_TARGETS        space-separated namespace/claim pairs, e.g.
#                           "observability/grafana-data-grafana-0 supabase/storage-files"
#   SNAPSHOT_CLASS          the VolumeSnapshotClass to snapshot with
#   SNAPSHOT_RETAIN_COUNT   ready snapshots kept per claim, 1 or more
#   SNAPSHOT_READY_TIMEOUT  seconds to wait for a snapshot to become ready (default 600)
# POSIX sh: runs in the Alpine kubectl image (busybox), without bash or jq. The service account
# may get persistentvolumeclaims and create/get/list/watch/delete volumesnapshots.
set -u
set -f # targets are split on spaces; no globbing
LC_ALL=C
export LC_ALL

MANAGED_BY=snapshot-volumes
CLAIM_LABEL=backup.supabase-platform/claim

log() { printf '%s snapshot-volumes: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
warn() { log "$@" >&2; }
fail() {
  warn "$@"
  exit 1
}

# A DNS-1123 subdomain of at most $2 characters: lowercase letters, digits, '-' and '.', starting
# and ending with a letter or digit.
dns_name() {
  case $1 in '' | *[!a-z0-9.-]* | [.-]* | *[.-] | *..* | *.-* | *-.*) return 1 ;; esac
  [ "${#1}" -le "$2" ]
}

# A whole number of 1 or more, at most 9 digits (no overflow), leading zeros allowed.
positive() {
  case $1 in '' | *[!0-9]*) return 1 ;; esac
  n=$(printf '%s' "$1" | sed 's/^0*//')
  [ -n "$n" ] && [ "${#n}" -le 9 ]
}

# --- configuration: every problem stops the job before anything is created -------------------
targets=${SNAPSHOT_TARGETS:-}
class=${SNAPSHOT_CLASS:-}
retain=${SNAPSHOT_RETAIN_COUNT:-}
timeout=${SNAPSHOT_READY_TIMEOUT:-600}

[ -n "$targets" ] || fail "SNAPSHOT_TARGETS is not set: give the volumes as space-separated namespace/claim pairs"
[ -n "$class" ] || fail "SNAPSHOT_CLASS is not set: name the VolumeSnapshotClass to snapshot with"
dns_name "$class" 253 || fail "SNAPSHOT_CLASS must name a VolumeSnapshotClass (a DNS-1123 subdomain), got '${class}'"
[ -n "$retain" ] || fail "SNAPSHOT_RETAIN_COUNT is not set: give the number of ready snapshots kept per claim, 1 or more"
positive "$retain" || fail "SNAPSHOT_RETAIN_COUNT must be a whole number, 1 or more (ready snapshots kept per claim), got '${retain}'"
retain=$n
positive "$timeout" || fail "SNAPSHOT_READY_TIMEOUT must be a whole number of seconds, 1 or more, got '${timeout}'"
timeout=$n

seen=' '
count=0
for target in $targets; do
  ns=${target%%/*}
  claim=${target#*/}
  # A namespace is a DNS-1123 label; the claim is also a label value, at most 63 characters.
  case $ns in *.*) ns= ;; esac
  if [ "$ns" = "$target" ] || ! dns_name "$ns" 63 || ! dns_name "$claim" 63; then
    fail "SNAPSHOT_TARGETS: '${target}' is not namespace/claim (a namespace, '/', a claim name of at most 63 lowercase letters, digits, '-' or '.')"
  fi
  case $seen in *" $target "*) fail "SNAPSHOT_TARGETS names ${target} twice" ;; esac
  seen="${seen}${target} "
  count=$((count + 1))
done

# --- one claim ----------------------------------------------------------------------------------
stamp=$(date -u +%Y%m%d-%H%M%S)

# The VolumeSnapshot: namespace, name, claim. Every value was validated above, so quoting is safe.
manifest() {
  cat <<EOF
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: "$2"
  namespace: "$1"
  labels:
    app.kubernetes.io/managed-by: "${MANAGED_BY}"
    ${CLAIM_LABEL}: "$3"
spec:
  volumeSnapshotClassName: "${class}"
  source:
    persistentVolumeClaimName: "$3"
EOF
}

# Snapshots one claim, then prunes it. Returns non-zero (after saying why) when anything failed.
snapshot_claim() {
  ns=$1
  claim=$2

  if ! phase=$(kubectl get pvc "$claim" -n "$ns" -o jsonpath='{.status.phase}' 2>&1); then
    case $phase in
      *NotFound* | *'not found'*) warn "claim ${ns}/${claim} not found" ;;
      *) warn "cannot read claim ${ns}/${claim}: ${phase}" ;;
    esac
    return 1
  fi
  if [ "$phase" != Bound ]; then
    warn "claim ${ns}/${claim} is ${phase:-without a phase}, not Bound: nothing to snapshot"
    return 1
  fi

  name="${claim}-${stamp}"
  if ! out=$(manifest "$ns" "$name" "$claim" | kubectl create -n "$ns" -f - 2>&1); then
    warn "cannot create snapshot ${ns}/${name} of claim ${claim}: ${out}"
    return 1
  fi
  log "created snapshot ${ns}/${name} of claim ${claim} (class ${class}); waiting up to ${timeout}s for it to be ready"

  if ! out=$(kubectl wait --for=jsonpath='{.status.readyToUse}'=true "volumesnapshot/${name}" -n "$ns" --timeout="${timeout}s" 2>&1); then
    why=$(kubectl get volumesnapshot "$name" -n "$ns" -o jsonpath='{.status.error.message}' 2>/dev/null) || why=
    warn "snapshot ${ns}/${name} not ready within ${timeout}s (${why:-$out}); left in place, claim ${ns}/${claim} not pruned"
    return 1
  fi
  log "snapshot ${ns}/${name} is ready"

  prune_claim "$ns" "$claim"
}

# Newest first: "creationTimestamp|name|readyToUse|deletionTimestamp" per snapshot of the claim.
# RFC 3339 UTC times sort as text; the name breaks ties.
list_snapshots() {
  kubectl get volumesnapshots -n "$1" -l "app.kubernetes.io/managed-by=${MANAGED_BY},${CLAIM_LABEL}=$2" \
    -o jsonpath='{range .items[*]}{.metadata.creationTimestamp}{"|"}{.metadata.name}{"|"}{.status.readyToUse}{"|"}{.metadata.deletionTimestamp}{"\n"}{end}'
}

prune_claim() {
  ns=$1
  claim=$2
  if ! listed=$(list_snapshots "$ns" "$claim" 2>&1); then
    warn "cannot list the snapshots of claim ${ns}/${claim}, not pruned: ${listed}"
    return 1
  fi
  snapshots=$(printf '%s\n' "$listed" | sed '/^$/d' | sort -r)

  # Pass 1: the oldest of the $retain newest ready snapshots (not counting any being deleted).
  ready=0
  oldest_kept=
  oldest_time=
  while IFS='|' read -r created sname is_ready deleting; do
    [ -n "$created" ] || continue
    case $created in
      [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*Z) ;;
      *)
        warn "unexpected snapshot listing for claim ${ns}/${claim}, not pruned: '${created}|${sname}|${is_ready}|${deleting}'"
        return 1
        ;;
    esac
    if [ -z "$deleting" ] && [ "$is_ready" = true ]; then
      ready=$((ready + 1))
      if [ "$ready" -eq "$retain" ]; then
        oldest_kept=$sname
        oldest_time=$created
      fi
    fi
  done <<EOF
$snapshots
EOF
  if [ "$ready" -lt "$retain" ]; then
    log "claim ${ns}/${claim} has ${ready} ready snapshot(s), fewer than the ${retain} kept: nothing deleted"
    return 0
  fi

  # Pass 2: everything listed after the oldest kept snapshot and strictly older than it goes.
  past=false
  deleted=0
  status=0
  while IFS='|' read -r created sname is_ready deleting; do
    [ -n "$created" ] || continue
    if [ "$past" = false ]; then
      [ "$sname" = "$oldest_kept" ] && past=true
      continue
    fi
    [ -z "$deleting" ] || continue
    if [ "$created" = "$oldest_time" ]; then
      log "keeping snapshot ${ns}/${sname}: created in the same second as ${oldest_kept}, the oldest kept"
      continue
    fi
    if [ "$is_ready" = true ]; then
      reason="ready, but older than the ${retain} newest ready snapshot(s)"
    else
      reason="never became ready, and older than ${oldest_kept}, the oldest kept"
    fi
    if out=$(kubectl delete volumesnapshot "$sname" -n "$ns" --wait=false 2>&1); then
      log "deleted snapshot ${ns}/${sname} (created ${created}): ${reason}"
      deleted=$((deleted + 1))
    else
      warn "cannot delete snapshot ${ns}/${sname}: ${out}"
      status=1
    fi
  done <<EOF
$snapshots
EOF
  log "claim ${ns}/${claim}: kept the ${retain} newest ready snapshot(s) (oldest ${oldest_kept}), deleted ${deleted}"
  return "$status"
}

# --- every claim --------------------------------------------------------------------------------
log "snapshotting ${count} claim(s) with class ${class}, keeping the ${retain} newest ready snapshot(s) of each"
failed=
nfailed=0
for target in $targets; do
  if ! snapshot_claim "${target%%/*}" "${target#*/}"; then
    failed="${failed} ${target}"
    nfailed=$((nfailed + 1))
  fi
done

if [ "$nfailed" -gt 0 ]; then
  warn "${nfailed} of ${count} claim(s) failed:${failed}"
  exit 1
fi
log "all ${count} claim(s) snapshotted and pruned"
