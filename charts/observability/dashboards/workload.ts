// The Kubernetes side of one Supabase service, shared by the service dashboards (Auth, Realtime,
// Storage): its pods available against desired (kube-state-metrics) and each container's CPU and
// memory against its limit (cAdvisor), whatever the service itself exports.
import { type DashboardBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { JOBS } from '../metrics-catalogue';
import { type DashboardContext, type PromPanels, sel } from './panels';

export interface Workload {
  /** The Deployment (its pods are `<deployment>-<template hash>-<suffix>`). */
  readonly deployment: string;
  /** The containers to show. */
  readonly containers: readonly string[];
}

/** A row "Pods and resources" with the workload's availability, CPU and memory. */
export function withWorkload(builder: DashboardBuilder, p: PromPanels, ctx: DashboardContext, w: Workload): DashboardBuilder {
  const namespace = ctx.namespaces.supabase;
  const pods = `pod=~"${w.deployment}-[a-z0-9]+-[a-z0-9]+"`;
  const containers = `container=~"${w.containers.join('|')}"`;
  const deployment = sel({ job: JOBS.kubeStateMetrics, namespace, deployment: w.deployment });
  const cadvisor = sel({ job: JOBS.cadvisor, namespace }, pods, containers);
  const limit = (resource: string) =>
    `max by (container) (kube_pod_container_resource_limits${sel({ job: JOBS.kubeStateMetrics, namespace, resource }, pods, containers)})`;
  return builder
    .withRow(new RowBuilder('Pods and resources'))
    .withPanel(
      p.countExpectingSome({
        title: 'Pods available / desired',
        description: `Pods of the ${w.deployment} Deployment that are ready, and how many it wants (the HPA's current choice where it scales). Healthy: equal. Fewer available for minutes: pods crash, fail their readiness probe or cannot be scheduled.`,
        queries: [
          { expr: `max(kube_deployment_status_replicas_available${deployment})`, legend: 'available' },
          { expr: `max(kube_deployment_spec_replicas${deployment})`, legend: 'desired' },
        ],
        height: 8,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'CPU by pod',
        description:
          'CPU each container uses (cores), and its limit. Healthy: well under the limit; at the limit the container is throttled and every request waits.',
        queries: [
          { expr: `sum by (pod, container) (rate(container_cpu_usage_seconds_total${cadvisor}[$__rate_interval]))`, legend: '{{pod}} {{container}}' },
          { expr: limit('cpu'), legend: '{{container}} limit' },
        ],
        unit: units.Short,
        min: 0,
        width: 9,
      }),
    )
    .withPanel(
      p.timeseries({
        title: 'Memory by pod',
        description:
          'Working-set memory of each container, and its limit. Healthy: a flat line under the limit; at the limit the kernel kills the container (OOMKilled).',
        queries: [
          { expr: `sum by (pod, container) (container_memory_working_set_bytes${cadvisor})`, legend: '{{pod}} {{container}}' },
          { expr: limit('memory'), legend: '{{container}} limit' },
        ],
        unit: units.BytesIEC,
        min: 0,
        width: 9,
      }),
    );
}
