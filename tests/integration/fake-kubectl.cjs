// A fake kubectl for tests/integration/volume-snapshots.test.ts, run by the same node binary as the
// tests (no API server can run here); the test puts it first on PATH.
// State folder layout:
//   pvc/<ns>/<name>.json, volumesnapshots/<ns>/<name>.json  the objects
//   config.json    { neverReady: { "<ns>/<claim>": "<status.error.message>" } }
//   calls.jsonl    every invocation: { argv, stdin }
//   created.jsonl  every manifest `create` accepted, as parsed
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const YAML = require(process.env.FAKE_KUBECTL_YAML);
const state = process.env.FAKE_KUBE_STATE;
const argv = process.argv.slice(2);
const stdin = argv.includes('-f') ? fs.readFileSync(0, 'utf8') : undefined;
fs.appendFileSync(path.join(state, 'calls.jsonl'), JSON.stringify({ argv, stdin }) + '\n');

function die(message, code) {
  process.stderr.write(message + '\n');
  process.exit(code === undefined ? 1 : code);
}
function unsupported(why) {
  die('fake kubectl: unsupported invocation (' + why + '): kubectl ' + argv.join(' '), 2);
}
const config = fs.existsSync(path.join(state, 'config.json')) ? JSON.parse(fs.readFileSync(path.join(state, 'config.json'), 'utf8')) : {};

// Flags: the values of -n/--namespace, -o/--output, -l/--selector, -f/--filename, --for, --timeout, --wait.
const VALUE_FLAGS = {
  '-n': 'namespace',
  '--namespace': 'namespace',
  '-o': 'output',
  '--output': 'output',
  '-l': 'selector',
  '--selector': 'selector',
  '-f': 'filename',
  '--filename': 'filename',
  '--for': 'for',
  '--timeout': 'timeout',
  '--wait': 'wait',
};
const flags = {};
const words = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (!a.startsWith('-')) {
    words.push(a);
    continue;
  }
  const eq = a.indexOf('=');
  const flag = eq > 0 ? a.slice(0, eq) : a;
  const key = VALUE_FLAGS[flag];
  if (!key) unsupported('flag ' + flag);
  if (key in flags) unsupported('flag ' + flag + ' given twice');
  if (eq > 0) flags[key] = a.slice(eq + 1);
  else if (key === 'wait') unsupported('--wait without =true/false');
  else if (i + 1 < argv.length) flags[key] = argv[++i];
  else unsupported('flag ' + flag + ' without a value');
}
const verb = words.shift();
const allowed = {
  get: ['namespace', 'output', 'selector'],
  create: ['namespace', 'filename'],
  wait: ['namespace', 'for', 'timeout'],
  delete: ['namespace', 'wait'],
}[verb];
if (!allowed) unsupported('verb ' + verb);
for (const key of Object.keys(flags)) if (!allowed.includes(key)) unsupported(key + ' with ' + verb);
// The job's own namespace is never the right default: the script must always say which.
if (!flags.namespace) unsupported('no -n: the namespace must be explicit');
const ns = flags.namespace;

const KINDS = {
  pvc: 'pvc',
  persistentvolumeclaim: 'pvc',
  persistentvolumeclaims: 'pvc',
  volumesnapshot: 'volumesnapshots',
  volumesnapshots: 'volumesnapshots',
  'volumesnapshot.snapshot.storage.k8s.io': 'volumesnapshots',
  'volumesnapshots.snapshot.storage.k8s.io': 'volumesnapshots',
};
const PLURAL = { pvc: 'persistentvolumeclaims', volumesnapshots: 'volumesnapshots.snapshot.storage.k8s.io' };
const SINGULAR = { pvc: 'persistentvolumeclaim', volumesnapshots: 'volumesnapshot.snapshot.storage.k8s.io' };
function kindOf(word) {
  const k = KINDS[word];
  if (!k) unsupported('resource ' + word);
  return k;
}
function file(kind, name) {
  return path.join(state, kind, ns, name + '.json');
}
function read(kind, name) {
  const f = file(kind, name);
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined;
}
function write(kind, obj) {
  fs.mkdirSync(path.join(state, kind, ns), { recursive: true });
  fs.writeFileSync(file(kind, obj.metadata.name), JSON.stringify(obj, null, 2));
}
function notFound(kind, name) {
  die('Error from server (NotFound): ' + PLURAL[kind] + ' "' + name + '" not found');
}
function list(kind) {
  const dir = path.join(state, kind, ns);
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .sort()
        .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')))
    : [];
}
function now() {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

// kubectl's JSONPath, the part the script uses: {.a.b} fields, {"..."} literals, {range .items[*]}..{end}.
// Missing fields print as nothing (kubectl's --allow-missing-template-keys=true default).
function tokens(template) {
  const out = [];
  let i = 0;
  while (i < template.length) {
    if (template[i] !== '{') {
      const j = template.indexOf('{', i);
      out.push({ text: template.slice(i, j < 0 ? undefined : j) });
      i = j < 0 ? template.length : j;
      continue;
    }
    const j = template.indexOf('}', i);
    if (j < 0) unsupported('unclosed { in jsonpath');
    const inner = template.slice(i + 1, j).trim();
    i = j + 1;
    if (inner === 'range .items[*]') out.push({ range: true });
    else if (inner === 'end') out.push({ end: true });
    else if (/^"[^"]*"$/.test(inner)) out.push({ text: JSON.parse(inner) });
    else if (/^(\.[A-Za-z0-9_-]+)+$/.test(inner)) out.push({ field: inner.slice(1).split('.') });
    else unsupported('jsonpath {' + inner + '}');
  }
  return out;
}
function render(toks, obj) {
  let out = '';
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.text !== undefined) out += t.text;
    else if (t.field) {
      let v = obj;
      for (const k of t.field) v = v !== null && typeof v === 'object' ? v[k] : undefined;
      if (v !== undefined && v !== null) out += typeof v === 'object' ? JSON.stringify(v) : String(v);
    } else if (t.range) {
      let depth = 1,
        j = i + 1;
      for (; j < toks.length && depth > 0; j++) depth += toks[j].range ? 1 : toks[j].end ? -1 : 0;
      if (depth !== 0) unsupported('{range} without {end}');
      if (!Array.isArray(obj.items)) unsupported('{range .items[*]} on a single object');
      for (const item of obj.items) out += render(toks.slice(i + 1, j - 1), item);
      i = j - 1;
    } else unsupported('{end} without {range}');
  }
  return out;
}
function output(obj) {
  const o = flags.output;
  if (o === undefined || !o.startsWith('jsonpath=')) unsupported('output ' + o + ' (only -o jsonpath=... is modelled)');
  process.stdout.write(render(tokens(o.slice('jsonpath='.length)), obj));
}
function selects(selector, labels) {
  return selector.split(',').every((term) => {
    const m = /^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$/.exec(term);
    if (!m) unsupported('selector term ' + term);
    return (labels || {})[m[1]] === m[2];
  });
}

if (verb === 'get') {
  if (words.length < 1 || words.length > 2) unsupported('get needs a resource and at most one name');
  const kind = kindOf(words[0]);
  if (words.length === 2) {
    if (flags.selector) unsupported('a name and a selector');
    const obj = read(kind, words[1]);
    if (!obj) notFound(kind, words[1]);
    output(obj);
  } else {
    if (kind !== 'volumesnapshots' || !flags.selector) unsupported('listing without a selector');
    output({ apiVersion: 'v1', kind: 'List', items: list(kind).filter((o) => selects(flags.selector, o.metadata.labels)) });
  }
} else if (verb === 'create') {
  if (words.length !== 0 || flags.filename !== '-') unsupported('create takes only -f -');
  const docs = YAML.parseAllDocuments(stdin).map((d) => d.toJS());
  if (docs.length !== 1) unsupported('create with ' + docs.length + ' documents');
  const obj = docs[0];
  if (!obj || obj.apiVersion !== 'snapshot.storage.k8s.io/v1' || obj.kind !== 'VolumeSnapshot')
    unsupported('create of something other than a snapshot.storage.k8s.io/v1 VolumeSnapshot');
  const meta = obj.metadata || {};
  if (meta.namespace !== undefined && meta.namespace !== ns)
    die(
      'error: the namespace from the provided object "' +
        meta.namespace +
        '" does not match the namespace "' +
        ns +
        '". You must pass \'--namespace=' +
        meta.namespace +
        "' to perform this operation.",
    );
  if (typeof meta.name !== 'string') die('error: resource name may not be empty');
  if (read('volumesnapshots', meta.name)) die('Error from server (AlreadyExists): volumesnapshots.snapshot.storage.k8s.io "' + meta.name + '" already exists');
  fs.appendFileSync(path.join(state, 'created.jsonl'), JSON.stringify(obj) + '\n');
  write('volumesnapshots', { ...obj, metadata: { ...meta, namespace: ns, uid: 'uid-' + meta.name, creationTimestamp: now() } });
  process.stdout.write('volumesnapshot.snapshot.storage.k8s.io/' + meta.name + ' created\n');
} else if (verb === 'wait') {
  if (words.length !== 1) unsupported('wait needs one kind/name');
  const slash = words[0].indexOf('/');
  if (slash < 0 || kindOf(words[0].slice(0, slash)) !== 'volumesnapshots') unsupported('wait on ' + words[0]);
  if (flags.for !== 'jsonpath={.status.readyToUse}=true') unsupported('--for=' + flags.for);
  if (!/^[1-9][0-9]*s$/.test(flags.timeout || '')) unsupported('--timeout=' + flags.timeout);
  const name = words[0].slice(slash + 1);
  const obj = read('volumesnapshots', name);
  if (!obj) notFound('volumesnapshots', name);
  // The snapshot controller's part: a snapshot of a claim told to fail gets an error and never becomes ready.
  const claim = ns + '/' + ((obj.spec && obj.spec.source && obj.spec.source.persistentVolumeClaimName) || '');
  const failure = (config.neverReady || {})[claim];
  if (failure !== undefined) {
    write('volumesnapshots', { ...obj, status: { readyToUse: false, error: { message: failure, time: now() } } });
    die('error: timed out waiting for the condition on volumesnapshots/' + name);
  }
  if (!(obj.status && obj.status.readyToUse === true)) {
    write('volumesnapshots', {
      ...obj,
      status: { boundVolumeSnapshotContentName: 'snapcontent-' + name, creationTime: now(), readyToUse: true, restoreSize: '1Gi' },
    });
  }
  process.stdout.write('volumesnapshot.snapshot.storage.k8s.io/' + name + ' condition met\n');
} else if (verb === 'delete') {
  if (words.length !== 2) unsupported('delete needs a resource and one name');
  const kind = kindOf(words[0]);
  if (kind !== 'volumesnapshots') unsupported('delete of ' + words[0]);
  if (!read(kind, words[1])) notFound(kind, words[1]);
  fs.rmSync(file(kind, words[1]));
  process.stdout.write(SINGULAR[kind] + ' "' + words[1] + '" deleted\n');
}
