// The CLI's --help text: every command with its options.
import { LAYERS } from '../lib/layers';

export const HELP = `Usage: npm run cli -- <command> [options]     (npm run cli -- <command> --help: this text)

Commands:
  apply     server-side apply dist/<env>/ (the committed files) to a cluster, layer by layer in
            Argo CD's sync-wave order; on-demand/ is never applied. Prints a prune plan first
            (labelled objects the cluster has and dist/<env>/ no longer holds); deletes them only
            with --prune, and never namespaces, volume claims or Prune=false/Delete=false objects
  status    a table of the environment's workloads (ready/desired replicas, Rollout phase and
            step, Cluster phase, CronJob runs) and the age of the last backups; exit code 0
            when everything is ready, 1 otherwise
  secrets   create the platform's Secrets in a dev cluster (generated values; never printed
            unless --dry-run; existing Secrets are kept unless --rotate)
  promote   put a new image of the api, worker or scheduler into an environment's release
            file (environments/releases/<env>.json), re-synthesise dist/, print what changed;
            production takes only staging's release once it completed there
  record-release
            record that staging's release of a component completed (its canary, for the api),
            from the Rollout or Deployment as kubectl prints it, in
            environments/releases/staging-completed.json; refuses unless the object proves it
  restore   postgres: a new recovery Cluster from the object store to a target, and the Job
            that fails loudly if it fell short; redis: the restore Job for a snapshot
            (dist/<env>/on-demand/); prints them and the steps around them, or --apply
  loadtest  run one k6 script of tests/load/ in the cluster: creates its Job
            (dist/<env>/on-demand/) under a fresh name, streams k6's log, prints the summary;
            exit code 0 when every threshold held, 1 otherwise

Options for apply:
  --env NAME               environment; dist/<env>/ must match what npm run synth writes now
  --layer NAME             only this layer: ${LAYERS.join(', ')}
  --dry-run                server-side dry run (dryRun=All): the API server validates, stores nothing
  --prune                  delete what the prune plan marks "delete", after every layer applied
                           (whole environment only; with --dry-run, a dry-run delete)
  --context NAME           kubeconfig context (default: the current one)

Options for loadtest:
  --env NAME               environment
  --script NAME            api, realtime or database
  --print                  print the Job instead of creating it
  --context NAME           kubeconfig context (default: the current one)

Options for status:
  --env NAME               environment
  --context NAME           kubeconfig context (default: the current one)

Options for secrets:
  --env NAME               environment (dev; staging and production use External Secrets)
  --rotate                 replace the values of Secrets that already exist
  --dry-run                print the Secret manifests instead of applying them (for kubectl apply -f -)
  --set SECRET/KEY=VALUE   a value that comes from outside (repeatable)
  --context NAME           kubeconfig context (default: the current one)

Options for promote (also: npm run promote -- ...):
  --env NAME               environment to release to
  --component NAME         api, worker or scheduler
  --image REF              REPO@sha256:<64 hex> (production refuses a tag without digest, and
                           an image that is not staging's release or has not completed there)
  --rollback               production only: an image that completed in staging before (the
                           previous release), though staging has moved on

Options for record-release:
  --component NAME         api, worker or scheduler
  --object FILE            kubectl get rollout api -n app -o json (deployment worker, deployment
                           scheduler) saved to FILE, or - to read it from standard input

Options for restore:
  --env NAME               environment
  --store NAME             postgres or redis
  --to TARGET              postgres: latest (default), a time (RFC 3339 with offset) or an
                           LSN (0/5000060); recovers into a NEW Cluster and checks it
  --backup NAME            redis: snapshot, e.g. 20261127T020000Z (default: latest)
  --force                  redis: allow writing into a data directory that holds data
  --apply                  create the objects in the cluster (default: print them)
  --context NAME           kubeconfig context (default: the current one)

Exit codes: 0 success, 1 failure or not ready (status), 2 wrong usage.
`;
