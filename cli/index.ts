// The operator CLI: one entry point, one subcommand per task.
//   npm run cli -- --help
//   npm run cli -- secrets --env dev [--rotate] [--dry-run] [--set SECRET/KEY=VALUE] [--context NAME]
//   npm run promote -- --env staging --component api --image REPO@sha256:...
//   npm run cli -- restore --env production --store postgres [--time TS | --restore-point NAME] [--backup NAME] [--force] [--apply]
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { ENVIRONMENTS } from '../environments';
import { EnvironmentError } from '../environments/schema';
import { PROJECT_ROOT } from '../lib/files';
import { platformSecrets, renderEnvironment } from '../platform';
import type { SecretSpec } from '../lib/secrets';
import { connect, type Cluster } from './kube';
import { promoteCommand } from './promote';
import { formatJob, parseRestoreArgs, restoreChecklist, restoreJob } from './restore';
import { UsageError } from './usage';
import { copyValues, generateValues, planSecrets, secretManifest } from './secrets';

const HELP = `Usage: npm run cli -- <command> [options]

Commands:
  secrets   create the platform's Secrets in a dev cluster (generated values; never printed
            unless --dry-run; existing Secrets are kept unless --rotate)
  promote   put a new image of the api, worker or scheduler into an environment's release
            file (environments/releases/<env>.json), re-synthesise dist/, print what changed
  restore   fill in a restore Job (dist/<env>/on-demand/) with a target and print it, or
            apply it with --apply; prints the steps around it (stop the store first)

Options for secrets:
  --env NAME               environment (dev; staging and production use External Secrets)
  --rotate                 replace the values of Secrets that already exist
  --dry-run                print the Secret manifests instead of applying them (for kubectl apply -f -)
  --set SECRET/KEY=VALUE   a value that comes from outside (repeatable)
  --context NAME           kubeconfig context (default: the current one)
  -h, --help               this help

Options for restore:
  --env NAME               environment
  --store NAME             postgres or redis
  --backup NAME            base backup or snapshot, e.g. 20261127T020000Z (default: latest)
  --time TS                postgres: recover up to this time (ISO 8601 with offset)
  --restore-point NAME     postgres: recover up to this restore point
  --force                  allow writing into a data directory that holds data
  --apply                  create the Job in the cluster (default: print it)
  --context NAME           kubeconfig context (default: the current one)

Options for promote (also: npm run promote -- ...):
  --env NAME               environment to release to
  --component NAME         api, worker or scheduler
  --image REF              REPO@sha256:<64 hex> (production refuses a tag without digest)
`;


export async function secretsCommand(argv: string[], cluster: () => Cluster, out: (line: string) => void): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      env: { type: 'string' },
      rotate: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      set: { type: 'string', multiple: true, default: [] },
      context: { type: 'string' },
    },
    strict: true,
  });
  const input = ENVIRONMENTS.find((e) => (e as { name?: string }).name === values.env);
  if (!input) throw new UsageError(`--env must be one of ${ENVIRONMENTS.map((e) => (e as { name: string }).name).join(', ')}`);
  const { env, specs } = platformSecrets(input);
  if (env.secrets.source !== 'cli') {
    throw new UsageError(`${env.name} takes its secrets from External Secrets (${env.secrets.storeKind} ${env.secrets.storeName}): put the values in the secret manager under ${env.secrets.keyPrefix}/`);
  }
  const provided: Record<string, string> = {};
  for (const pair of values.set) {
    const match = /^([^/=]+\/[^=]+)=(.+)$/.exec(pair);
    if (!match) throw new UsageError(`--set ${pair}: write it as SECRET/KEY=VALUE`);
    provided[match[1]!] = match[2]!;
  }

  // Values written in this run, so copies in other namespaces repeat them.
  const written = new Map<string, Record<string, string>>();
  const valuesOf = async (spec: SecretSpec, read: (ns: string, name: string) => Promise<Record<string, string> | undefined>) => {
    if (!spec.copyOf) return generateValues(spec, provided);
    return copyValues(spec, written.get(`${spec.copyOf}/${spec.name}`) ?? (await read(spec.copyOf, spec.name)));
  };
  if (values['dry-run']) {
    for (const item of planSecrets(specs, () => undefined, false)) {
      const made = await valuesOf(item.spec, () => Promise.resolve(undefined));
      written.set(`${item.spec.namespace}/${item.spec.name}`, made);
      out(`---\n${stringify(secretManifest(item.spec, made, env.name)).trimEnd()}`);
    }
    return;
  }
  const kube = cluster();
  const existing = new Map<string, string[] | undefined>();
  for (const spec of specs) existing.set(`${spec.namespace}/${spec.name}`, await kube.secretKeys(spec.namespace, spec.name));
  const plan = planSecrets(specs, (ns, name) => existing.get(`${ns}/${name}`), values.rotate);
  for (const item of plan) {
    if (item.action !== 'keep') {
      const made = await valuesOf(item.spec, (ns, name) => kube.secretValues(ns, name));
      written.set(`${item.spec.namespace}/${item.spec.name}`, made);
      await kube.apply(secretManifest(item.spec, made, env.name), item.action === 'rotate');
    }
    out(`${item.action.padEnd(6)} ${item.spec.namespace}/${item.spec.name}: ${item.reason}`);
  }
}

export async function restoreCommand(argv: string[], cluster: (context?: string) => Cluster, out: (line: string) => void, note: (line: string) => void): Promise<void> {
  const request = parseRestoreArgs(argv, ENVIRONMENTS.map((e) => e.name));
  const { manifests } = renderEnvironment(ENVIRONMENTS.find((e) => e.name === request.env));
  const job = restoreJob(manifests, request, new Date());
  const namespace = (job as { metadata: { namespace: string } }).metadata.namespace;
  for (const line of restoreChecklist(request, namespace)) note(line);
  if (!request.apply) {
    out(formatJob(job));
    return;
  }
  await cluster(request.context).apply(job, false);
  note(`created job/${(job as { metadata: { name: string } }).metadata.name} in ${namespace}`);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '-h' || command === '--help') {
      process.stdout.write(HELP);
      return command ? 0 : 2;
    }
    if (command === 'promote') {
      promoteCommand(rest, ENVIRONMENTS, PROJECT_ROOT, (line) => console.log(line));
      return 0;
    }
    if (command === 'restore') {
      await restoreCommand(rest, () => connect(), (line) => console.log(line), (line) => console.error(line));
      return 0;
    }
    if (command === 'secrets') {
      await secretsCommand(rest, () => connect(), (line) => console.log(line));
      return 0;
    }
    throw new UsageError(`unknown command "${command}": see --help`);
  } catch (error) {
    if (error instanceof UsageError || error instanceof EnvironmentError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`error: ${(error as Error).message}`);
      return 2;
    }
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
