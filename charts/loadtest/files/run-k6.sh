#!/bin/sh
# Runs the k6 command given as arguments, then prints the summary k6 exported
# (--summary-export=$LOADTEST_SUMMARY_FILE) between two marker lines, so that whoever streams the
# pod's log (npm run cli -- loadtest) has the numbers without reading the pod's files. The exit
# code is k6's: 0 passed, 99 a threshold failed, anything else an error.
set -u
summary="${LOADTEST_SUMMARY_FILE:?LOADTEST_SUMMARY_FILE names the file k6 exports its summary to}"

"$@" &
k6_pid=$!
# A stop (activeDeadlineSeconds, a deleted Job) reaches this shell: pass it on to k6, which ends
# the test gracefully and still writes its summary.
trap 'kill -TERM "$k6_pid" 2>/dev/null' TERM INT

status=0
wait "$k6_pid" || status=$?
# wait returns early when a signal arrives; wait again until k6 itself has exited.
while kill -0 "$k6_pid" 2>/dev/null; do
  status=0
  wait "$k6_pid" || status=$?
done

echo '----- BEGIN k6 summary (JSON) -----'
cat "$summary" 2>/dev/null || echo '{}'
echo
echo '----- END k6 summary (JSON) -----'
exit "$status"
