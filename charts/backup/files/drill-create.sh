#!/bin/sh
# The restore drill's first step: creates the scratch recovery Cluster (a NEW Cluster recovered
# from the object store, from the manifest the backup chart ships), owned by this Job so that
# Kubernetes deletes it with the Job whatever happens, and waits until it is ready: the time that
# takes is the RTO. Never fails the pod: a problem goes into $WORK/failed so the later steps still
# record the result and delete the Cluster.
# Environment: DRILL_CLUSTER (its name), DRILL_MANIFEST (its manifest), JOB_NAME (this Job),
# MAX_RTO_SECONDS, WORK. kubectl in the alpine/k8s image (POSIX sh).
set -u

: "${DRILL_CLUSTER:?}" "${DRILL_MANIFEST:?}" "${JOB_NAME:?}" "${MAX_RTO_SECONDS:?}" "${WORK:?}"
fail() {
  echo "drill: $*" | tee -a "$WORK/failed" >&2
  exit 0
}
date -u +%s >"$WORK/started"

# A scratch Cluster left by an earlier run (its Job not yet collected) goes first.
kubectl delete cluster "$DRILL_CLUSTER" --ignore-not-found --wait=true --timeout=600s || fail "could not delete the previous $DRILL_CLUSTER"

uid=$(kubectl get job "$JOB_NAME" -o jsonpath='{.metadata.uid}') || fail "cannot read job/$JOB_NAME"
[ -n "$uid" ] || fail "job/$JOB_NAME has no uid"
kubectl create -f "$DRILL_MANIFEST" || fail "could not create cluster/$DRILL_CLUSTER"
owner="{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"name\":\"$JOB_NAME\",\"uid\":\"$uid\",\"blockOwnerDeletion\":false}]}}"
kubectl patch cluster "$DRILL_CLUSTER" --type merge -p "$owner" || fail "could not make job/$JOB_NAME the owner of cluster/$DRILL_CLUSTER"

started=$(cat "$WORK/started")
if ! kubectl wait cluster "$DRILL_CLUSTER" --for=jsonpath='{.status.phase}'='Cluster in healthy state' --timeout="${MAX_RTO_SECONDS}s"; then
  kubectl get cluster "$DRILL_CLUSTER" -o jsonpath='{.status.phase}{"\n"}' >&2 || true
  echo $(($(date -u +%s) - started)) >"$WORK/rto"
  fail "cluster/$DRILL_CLUSTER was not ready within ${MAX_RTO_SECONDS}s (the RTO the platform promises)"
fi
echo $(($(date -u +%s) - started)) >"$WORK/rto"
echo "drill: cluster/$DRILL_CLUSTER ready after $(cat "$WORK/rto")s"
