// PostgreSQL tuning from the pod's resources, by the PGTune rules (docs/data-tier.md, profile
// "web" or "oltp", Linux). Memory settings come from the container's memory limit, which is all
// the memory PostgreSQL can ever use; CPU settings from the CPU request, which is what the pod is
// guaranteed. Each setting carries the reason shown in docs/data-tier.md.
import { SHARED_BUFFERS_SHARE, sharedBuffersBytes, type TuningProfile, WAL_SIZES } from '../../lib/facts/postgres-sizing';

export type StorageType = 'ssd' | 'nvme' | 'san' | 'hdd';

export interface TuningInput {
  /** Container memory limit, bytes. */
  readonly memoryBytes: number;
  /** Container CPU request, cores. */
  readonly cpuCores: number;
  readonly maxConnections: number;
  readonly profile: TuningProfile;
  readonly storageType: StorageType;
}

export interface Setting {
  readonly name: string;
  readonly value: string;
  readonly why: string;
}

const KB = 1024;
const MB = 1024 * KB;
const GB = 1024 * MB;

/** A size in PostgreSQL's units: the largest of GB, MB, kB that keeps it whole. */
export function pgSize(bytes: number): string {
  const kb = Math.floor(bytes / KB);
  if (kb % (1024 * 1024) === 0 && kb > 0) return `${kb / (1024 * 1024)}GB`;
  if (kb % 1024 === 0 && kb > 0) return `${kb / 1024}MB`;
  return `${kb}kB`;
}

const RANDOM_PAGE_COST: Record<StorageType, string> = { ssd: '1.1', nvme: '1.1', san: '1.1', hdd: '4' };
const IO_CONCURRENCY: Record<StorageType, number> = { hdd: 2, ssd: 200, san: 300, nvme: 1000 };

export function tune(input: TuningInput): Setting[] {
  const ram = input.memoryBytes;
  const cpus = Math.floor(input.cpuCores);
  const sharedBuffers = sharedBuffersBytes(ram);
  const maintenance = Math.min(Math.floor(ram / 16), 8 * GB);

  // 3% of shared_buffers, between 32kB and 16MB; above 14MB PGTune rounds up to the 16MB cap.
  let walBuffers = Math.floor((sharedBuffers * 3) / 100);
  if (walBuffers > 14 * MB) walBuffers = 16 * MB;
  walBuffers = Math.max(walBuffers, 32 * KB);

  // Parallelism only with 4 or more guaranteed cores (PGTune); never below the 8 background
  // workers the Supabase image's extensions (pg_cron, pg_net, timescaledb) count on.
  const parallel = cpus >= 4;
  const perGather = Math.min(4, Math.ceil(cpus / 2));
  const workerSlots = parallel ? cpus : 8;

  const workMem = Math.max(Math.floor((ram - sharedBuffers) / ((input.maxConnections + workerSlots) * 3)), 4 * MB);
  const wal = WAL_SIZES[input.profile];

  return [
    { name: 'max_connections', value: String(input.maxConnections), why: 'connection budget from the environment' },
    { name: 'shared_buffers', value: pgSize(sharedBuffers), why: `1/${1 / SHARED_BUFFERS_SHARE} of the memory limit` },
    { name: 'effective_cache_size', value: pgSize(Math.floor((ram * 3) / 4)), why: '3/4 of the memory limit (planner estimate, allocates nothing)' },
    { name: 'maintenance_work_mem', value: pgSize(maintenance), why: '1/16 of the memory limit, at most 8GB' },
    { name: 'work_mem', value: pgSize(workMem), why: '(limit - shared_buffers) / ((max_connections + workers) x 3), at least 4MB' },
    { name: 'wal_buffers', value: pgSize(walBuffers), why: '3% of shared_buffers, 32kB to 16MB' },
    { name: 'huge_pages', value: sharedBuffers >= 2 * GB ? 'try' : 'off', why: 'try when shared_buffers is 2GB or more' },
    { name: 'min_wal_size', value: pgSize(wal.min), why: `${input.profile} profile` },
    { name: 'max_wal_size', value: pgSize(wal.max), why: `${input.profile} profile` },
    { name: 'checkpoint_completion_target', value: '0.9', why: 'spread checkpoint writes' },
    { name: 'default_statistics_target', value: '100', why: 'PGTune web/oltp' },
    { name: 'random_page_cost', value: RANDOM_PAGE_COST[input.storageType], why: `${input.storageType} storage` },
    { name: 'effective_io_concurrency', value: String(IO_CONCURRENCY[input.storageType]), why: `${input.storageType} storage` },
    { name: 'max_worker_processes', value: String(Math.max(8, cpus)), why: 'CPU request, at least the 8 the image extensions need' },
    { name: 'max_parallel_workers', value: String(parallel ? cpus : Math.max(0, Math.min(cpus, 2))), why: 'CPU request (parallel query from 4 cores)' },
    { name: 'max_parallel_workers_per_gather', value: String(parallel ? perGather : Math.min(1, cpus)), why: 'half the CPU request, at most 4' },
    { name: 'max_parallel_maintenance_workers', value: String(parallel ? perGather : Math.min(1, cpus)), why: 'half the CPU request, at most 4' },
    { name: 'jit', value: 'off', why: 'short OLTP queries pay the compile cost without gain' },
    { name: 'wal_compression', value: 'lz4', why: 'less WAL to write, stream and archive (PostgreSQL 15)' },
  ];
}
