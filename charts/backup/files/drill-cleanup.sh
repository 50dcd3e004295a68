#!/bin/sh
# The restore drill's last step: deletes the scratch recovery Cluster (its volumes go with it)
# and fails the Job when any earlier step found a problem, naming it.
# Environment: DRILL_CLUSTER, WORK. kubectl in the alpine/k8s image (POSIX sh).
set -u

: "${DRILL_CLUSTER:?}" "${WORK:?}"
kubectl delete cluster "$DRILL_CLUSTER" --ignore-not-found --wait=false || echo "drill: could not delete cluster/$DRILL_CLUSTER: it goes with this Job" >&2
if [ -s "$WORK/failed" ]; then
  echo "drill: FAILED:" >&2
  cat "$WORK/failed" >&2
  exit 1
fi
echo "drill: passed"
