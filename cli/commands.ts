// Every command of the operator CLI with its options, described once with commander
// (https://github.com/tj/commander.js): `npm run cli -- --help` and `<command> --help` are
// generated from these, commander refuses unknown options and bad choices, and each command
// module parses its arguments with the same definition (parseCommandArgs). This file loads only
// commander and plain lists of names, so help and usage errors come back before the command's
// own module (the charts, client-node) is loaded.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { LAYERS, ON_DEMAND_FOLDER } from '../lib/layers';
import { APP_COMPONENTS, LOADTEST_SCRIPTS } from '../environments/names';
import { UsageError } from './usage';

export const STORES = ['postgres', 'redis'] as const;
export type Store = (typeof STORES)[number];

/** Environment variable that sets the request timeout when --request-timeout is not given. */
export const REQUEST_TIMEOUT_ENV = 'KUBE_REQUEST_TIMEOUT';
/** The timeout of one Kubernetes API request when neither the flag nor the variable sets it. */
export const DEFAULT_REQUEST_TIMEOUT = '30s';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration such as "30s", "2m", "500ms" or "0" (no timeout), as kubectl's --request-timeout takes it. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const unit = ['ms', 'h', 'm', 's'].find((u) => text.endsWith(u));
  const amount = unit ? text.slice(0, -unit.length) : '';
  const value = Number(amount);
  if (!unit || amount === '' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError('write a duration such as 30s, 2m or 500ms (0: no timeout)');
  }
  return Math.round(value * UNITS[unit]!);
}

const choice = (name: string, choices: readonly string[], description: string) => new Option(`--${name} <name>`, description).choices(choices);

function layerOption(): Option {
  return new Option('--layer <name>', `only this layer: ${LAYERS.join(', ')}`).argParser((value: string) => {
    if (value === ON_DEMAND_FOLDER)
      throw new InvalidArgumentError('on-demand objects are never applied by apply; run a restore with `restore --apply`, a load test with `loadtest`.');
    if (!(LAYERS as readonly string[]).includes(value)) throw new InvalidArgumentError(`Allowed choices are ${LAYERS.join(', ')}.`);
    return value;
  });
}

const envOption = (envNames: readonly string[], description = 'environment') => choice('env', envNames, description).makeOptionMandatory();

/** The options every command that talks to a cluster takes. */
function clusterOptions(): Option[] {
  return [
    new Option('--context <name>', "kubeconfig context (default: the kubeconfig's current one)"),
    new Option('--request-timeout <duration>', `give up on a Kubernetes API request after this long (0: never)`)
      .env(REQUEST_TIMEOUT_ENV)
      .default(DEFAULT_REQUEST_TIMEOUT)
      .argParser((value: string) => (parseDuration(value), value)),
  ];
}

interface CommandDefinition {
  /** One line in the list of commands. */
  readonly summary: string;
  /** The paragraph of `<command> --help`. */
  readonly description: string;
  readonly options: (envNames: readonly string[]) => Option[];
  /** Lines after the options in `<command> --help`. */
  readonly after?: string;
}

export const COMMANDS = {
  apply: {
    summary: 'server-side apply dist/<env>/ to a cluster, layer by layer, with a prune plan',
    description:
      "Server-side apply of dist/<env>/ (the committed files) to a cluster, layer by layer in Argo CD's sync-wave order; on-demand/ is never applied. Prints a prune plan first (labelled objects the cluster has and dist/<env>/ no longer holds); deletes them only with --prune, and never namespaces, volume claims or Prune=false/Delete=false objects.",
    options: (envNames) => [
      envOption(envNames, 'environment; dist/<env>/ must match what npm run synth writes now'),
      layerOption(),
      new Option('--dry-run', 'server-side dry run (dryRun=All): the API server validates, stores nothing'),
      new Option('--prune', 'delete what the prune plan marks "delete", after every layer applied (whole environment only; with --dry-run, a dry-run delete)'),
      ...clusterOptions(),
    ],
  },
  status: {
    summary: "a table of the environment's workloads and the age of the last backups",
    description:
      "A table of the environment's workloads (ready/desired replicas, Rollout phase and step, Cluster phase, CronJob runs) and the age of the last backups. Exit code 0 when everything is ready, 1 otherwise.",
    options: (envNames) => [envOption(envNames), ...clusterOptions()],
  },
  secrets: {
    summary: "create the platform's Secrets in a dev cluster",
    description:
      "Create the platform's Secrets in a dev cluster: generated values, never printed unless --dry-run; existing Secrets are kept unless --rotate. Values that come from outside are given with --set (the command lists which).",
    options: (envNames) => [
      envOption(envNames, 'environment (dev; staging and production use External Secrets)'),
      new Option('--rotate', 'replace the values of Secrets that already exist'),
      new Option('--dry-run', 'print the Secret manifests instead of applying them (for kubectl apply -f -)'),
      new Option('--set <SECRET/KEY=VALUE>', 'a value that comes from outside (repeatable)')
        .argParser((value: string, previous: string[] = []) => [...previous, value])
        .default([]),
      ...clusterOptions(),
    ],
  },
  promote: {
    summary: "put a new image of the api, worker or scheduler into an environment's release file",
    description:
      "Put a new image of the api, worker or scheduler into an environment's release file (environments/releases/<env>.json), re-synthesise dist/ and print what changed. Outside dev only images pinned by digest (the admission policy refuses a tag alone); production takes only staging's release once it completed there. Nothing is written when a check fails.",
    options: (envNames) => [
      envOption(envNames, 'environment to release to'),
      choice('component', APP_COMPONENTS, 'the component').makeOptionMandatory(),
      new Option('--image <ref>', 'REPO@sha256:<64 hex> (dev also takes REPO:TAG)').makeOptionMandatory(),
      new Option('--rollback', 'production only: an image that completed in staging before (the previous release), though staging has moved on'),
    ],
    after: '\nAlso: npm run promote -- --env staging --component api --image REPO@sha256:<digest>',
  },
  'record-release': {
    summary: "record that staging's release of a component completed",
    description:
      "Record that staging's release of a component completed (its canary, for the api), from the Rollout or Deployment as kubectl prints it, in environments/releases/staging-completed.json; refuses unless the object proves it.",
    options: () => [
      choice('component', APP_COMPONENTS, 'the component').makeOptionMandatory(),
      new Option(
        '--object <file>',
        'kubectl get rollout api -n app -o json (deployment worker, deployment scheduler) saved to FILE, or - for standard input',
      ).makeOptionMandatory(),
    ],
  },
  restore: {
    summary: 'postgres: a new recovery Cluster to a target; redis: the restore Job for a snapshot',
    description:
      'postgres: a new recovery Cluster from the object store up to a target, and the Job that fails loudly if it fell short; redis: the restore Job for a snapshot (dist/<env>/on-demand/). Prints them and the steps around them, or creates them with --apply (in production only after confirmation: --yes, or answer the question).',
    options: (envNames) => [
      envOption(envNames),
      choice('store', STORES, 'what to restore').makeOptionMandatory(),
      new Option('--to <target>', 'postgres: latest (default), a time (RFC 3339 with offset) or an LSN (0/5000060)'),
      new Option('--backup <name>', 'redis: snapshot, e.g. 20261127T020000Z (default: latest)'),
      new Option('--force', 'redis: allow writing into a data directory that holds data'),
      new Option('--apply', 'create the objects in the cluster (default: print them)'),
      new Option('--yes', 'production: do not ask for confirmation'),
      ...clusterOptions(),
    ],
  },
  loadtest: {
    summary: 'run one k6 script of tests/load/ in the cluster and print its summary',
    description:
      "Run one k6 script of tests/load/ in the cluster: creates its Job (dist/<env>/on-demand/) under a fresh name, streams k6's log, prints the summary. In production only after confirmation (--yes, or answer the question). Exit code 0 when every threshold held, 1 otherwise.",
    options: (envNames) => [
      envOption(envNames),
      choice('script', LOADTEST_SCRIPTS, 'which script of tests/load/').makeOptionMandatory(),
      new Option('--print', 'print the Job instead of creating it'),
      new Option('--yes', 'production: do not ask for confirmation'),
      ...clusterOptions(),
    ],
  },
} satisfies Record<string, CommandDefinition>;

export type CommandName = keyof typeof COMMANDS;
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

/** How the CLI is started, for usage lines. */
export const PROGRAM = 'npm run cli --';

/** A commander Command for one command, that throws instead of exiting and prints nothing itself. */
export function commandFor(name: CommandName, envNames: readonly string[]): Command {
  const def: CommandDefinition = COMMANDS[name];
  const command = new Command(name).summary(def.summary).description(def.description).helpOption('-h, --help', 'show this help').allowExcessArguments(false);
  for (const option of def.options(envNames)) command.addOption(option);
  if (def.after) command.addHelpText('after', def.after);
  return command;
}

/** Commander's message without its "error: " prefix and trailing newline. */
export const commanderMessage = (error: CommanderError) =>
  error.message
    .replace(/^error: /, '')
    .trim()
    .replace(/\s*\n\s*/g, ' ');

/**
 * Parses one command's arguments (without the command's name) as the CLI does; throws a
 * UsageError with commander's message for an unknown option, a missing value or a bad choice.
 */
export function parseCommandArgs<T>(name: CommandName, argv: readonly string[], envNames: readonly string[]): T {
  const command = commandFor(name, envNames)
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  try {
    command.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new UsageError(commanderMessage(error));
    throw error;
  }
  return command.opts<T & Record<string, unknown>>();
}

/**
 * `npm run cli apply --env dev` (no "--") makes npm keep `--env` as its own setting: the CLI gets
 * "apply dev" and npm exports npm_config_env. Returns the advice to put -- before the flags when
 * a flag of this CLI arrived that way (run by npm, exported as npm_config_*, absent from argv),
 * or undefined.
 */
export function npmSwallowedFlags(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const script = env.npm_lifecycle_event;
  if (!script) return undefined;
  const options = new Map<string, Option>();
  for (const name of COMMAND_NAMES) for (const option of COMMANDS[name].options(['dev'])) options.set(option.long!.slice(2), option);
  const given = (flag: string) => argv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`));
  const swallowed = [...options.keys()].filter((flag) => {
    const value = env[`npm_config_${flag.replace(/-/g, '_')}`];
    return value !== undefined && value !== '' && !given(flag);
  });
  if (swallowed.length === 0) return undefined;
  // npm passes on the words after a flag it kept; a flag that takes a value gets "true" from npm.
  const positionals = argv.filter((a) => !a.startsWith('-'));
  const [first, ...rest] = positionals;
  const command = first !== undefined && (COMMAND_NAMES as string[]).includes(first) && first !== script ? [first] : [];
  const leftovers = first !== undefined && command.length === 0 && first !== script ? positionals : rest;
  const needing = swallowed.filter((flag) => options.get(flag)!.required && env[`npm_config_${flag.replace(/-/g, '_')}`] === 'true');
  const flags = swallowed.map((flag) => {
    if (!options.get(flag)!.required) return `--${flag}`;
    const value = env[`npm_config_${flag.replace(/-/g, '_')}`]!;
    return `--${flag} ${value !== 'true' ? value : needing.length === 1 && leftovers.length === 1 ? leftovers[0] : '<value>'}`;
  });
  const suggestion = [...command, ...flags].join(' ');
  return `npm kept ${swallowed.map((f) => `--${f}`).join(', ')} for itself, so the CLI never saw ${swallowed.length === 1 ? 'it' : 'them'}: put -- before the flags: npm run ${script} -- ${suggestion}`;
}
