// The OpenAPI v3 schema of every served, non-deprecated version of the given
// CustomResourceDefinitions, keyed "<group>/<version>/<Kind>": imports/crd-schemas.json, which
// `npm run import` (scripts/import-crds.ts) writes. The policy tests validate the platform's
// custom resources against these schemas.
//   npx tsx scripts/extract-crd-schemas.ts OUT.json CRD.yaml...
import { readFileSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

interface CrdVersion {
  name: string;
  served: boolean;
  deprecated?: boolean;
  schema?: { openAPIV3Schema?: unknown };
}
interface Crd {
  kind: string;
  spec: { group: string; scope: string; names: { kind: string }; versions: CrdVersion[] };
}

/** The schemas of the CRDs in `files`, sorted by key. */
export function extractSchemas(files: readonly string[]): Record<string, { scope: string; schema: unknown }> {
  const schemas: Record<string, { scope: string; schema: unknown }> = {};
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = doc.toJS() as Crd | null;
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      for (const v of crd.spec.versions) {
        if (!v.served || v.deprecated || !v.schema?.openAPIV3Schema) continue;
        schemas[`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`] = {
          scope: crd.spec.scope,
          schema: v.schema.openAPIV3Schema,
        };
      }
    }
  }
  return Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
}

if (require.main === module) {
  const [out, ...files] = process.argv.slice(2);
  if (!out || files.length === 0) {
    console.error('usage: extract-crd-schemas.ts OUT.json CRD.yaml...');
    process.exit(2);
  }
  const sorted = extractSchemas(files);
  writeFileSync(out, JSON.stringify(sorted) + '\n');
  console.log(`${Object.keys(sorted).length} CRD schemas -> ${out}`);
}
