#!/usr/bin/env bash
# Regenerates imports/ (typed cdk8s classes) and imports/crd-schemas.json (the CRDs'
# OpenAPI schemas, used by the policy tests) from the upstream CRD files.
#
# Usage: scripts/import-crds.sh [CRD_DIR]
#   CRD_DIR defaults to ../shared/crds, which holds the upstream files at the tags
#   listed in cdk8s.yaml. With network access, `npx cdk8s import` (no arguments)
#   regenerates the typed classes from the URLs in cdk8s.yaml instead.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
crds=$(cd "${1:-$here/../shared/crds}" && pwd)
cd "$here"

# alias:=file. Aliases keep CRDs of one API group from overwriting each other's module.
imports=(
  "rollout:=argo-rollouts-v1.9.1-rollout.yaml"
  "analysistemplate:=argo-rollouts-v1.9.1-analysistemplate.yaml"
  "clusteranalysistemplate:=argo-rollouts-v1.9.1-clusteranalysistemplate.yaml"
  "application:=argo-cd-v3.5.1-application.yaml"
  "appproject:=argo-cd-v3.5.1-appproject.yaml"
  "certificate:=cert-manager-v1.21.1-certificates.yaml"
  "clusterissuer:=cert-manager-v1.21.1-clusterissuers.yaml"
  "issuer:=cert-manager-v1.21.1-issuers.yaml"
  "externalsecret:=external-secrets-v2.9.0-externalsecrets.yaml"
  "clustersecretstore:=external-secrets-v2.9.0-clustersecretstores.yaml"
  "clusterpolicy:=kyverno-v1.19.0-clusterpolicies.yaml"
  "volumesnapshot:=external-snapshotter-v8.6.0-volumesnapshots.yaml"
  "volumesnapshotclass:=external-snapshotter-v8.6.0-volumesnapshotclasses.yaml"
  "cluster:=cloudnative-pg-v1.30.0-clusters.yaml"
  "pooler:=cloudnative-pg-v1.30.0-poolers.yaml"
  "scheduledbackup:=cloudnative-pg-v1.30.0-scheduledbackups.yaml"
  "backup:=cloudnative-pg-v1.30.0-backups.yaml"
  "objectstore:=plugin-barman-cloud-v0.14.0-objectstores.yaml"
)

rm -rf imports
mkdir -p imports
files=()
for spec in "${imports[@]}"; do
  alias=${spec%%:=*}
  file=$crds/${spec#*:=}
  [ -f "$file" ] || { echo "missing CRD file: $file" >&2; exit 1; }
  files+=("$file")
  npx cdk8s import "$alias:=$file" --language typescript --output imports --save false --check-upgrade false >/dev/null
done
npx tsx scripts/extract-crd-schemas.ts imports/crd-schemas.json "${files[@]}"
echo "imports/ regenerated from $crds"
