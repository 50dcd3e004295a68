// Schema validation: core Kubernetes kinds against kubernetes-models 4.x (Kubernetes 1.33),
// custom resources against the OpenAPI schema of their CRD at the pinned upstream tag
// (imports/crd-schemas.json, generated with imports/). The CRD check is strict the way the API
// server's field validation is: a field the schema does not declare is an error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import type { K8sObject } from './objects';

interface CrdSchema {
  scope: 'Namespaced' | 'Cluster';
  schema: Record<string, unknown>;
}

let crdSchemas: Record<string, CrdSchema> | undefined;
function crds(): Record<string, CrdSchema> {
  crdSchemas ??= JSON.parse(readFileSync(join(__dirname, '../imports/crd-schemas.json'), 'utf8')) as Record<string, CrdSchema>;
  return crdSchemas;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();

/** Closes every object schema that lists its properties and does not preserve unknown fields. */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (typeof schema !== 'object' || schema === null) return schema;
  const s = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, strict(v)])) as Record<string, unknown>;
  if (s.properties && s.additionalProperties === undefined && s['x-kubernetes-preserve-unknown-fields'] !== true) {
    s.additionalProperties = false;
  }
  return s;
}

/** The scope of a custom resource kind, or undefined if it is not one of the imported CRDs. */
export function crdScope(apiVersion: string, kind: string): 'Namespaced' | 'Cluster' | undefined {
  return crds()[`${apiVersion}/${kind}`]?.scope;
}

/** Problems with `obj` against its schema, as "field: message"; empty if valid. */
export function schemaErrors(obj: K8sObject): string[] {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const crd = crds()[key];
  if (crd) {
    let validate = compiled.get(key);
    if (!validate) {
      // apiVersion, kind and metadata are checked by the API server, not the CRD schema.
      const schema = strict(crd.schema) as Record<string, unknown>;
      const properties = { ...(schema.properties as object), apiVersion: {}, kind: {}, metadata: { type: 'object' } };
      validate = ajv.compile({ ...schema, properties });
      compiled.set(key, validate);
    }
    if (validate(obj)) return [];
    return (validate.errors ?? []).map((e) => {
      const field = e.instancePath.slice(1).replace(/\//g, '.') || '(object)';
      const extra = e.keyword === 'additionalProperties' ? ` (${String(e.params.additionalProperty)})` : '';
      return `${field}: ${e.message ?? 'invalid'}${extra}`;
    });
  }
  const model = coreModel(obj.apiVersion, obj.kind);
  if (!model) return [`(object): no schema for ${key}; add its CRD to the imports of cdk8s.yaml and run npm run import, or fix apiVersion/kind`];
  try {
    new model(obj).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!errors) return [`(object): ${(error as Error).message}`];
    return errors.map((e) => `${e.instancePath.slice(1).replace(/\//g, '.') || '(object)'}: ${e.message ?? 'invalid'}`);
  }
}

type Model = new (data: unknown) => { validate(): void };

function coreModel(apiVersion: string, kind: string): Model | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (!version || !/^[a-z0-9.]*$/.test(group ?? '') || !/^v[0-9a-z]+$/.test(version)) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(`kubernetes-models/${group ? `${group}/` : ''}${version}`) as Record<string, unknown>;
    return mod[kind] as Model | undefined;
  } catch {
    return undefined;
  }
}
