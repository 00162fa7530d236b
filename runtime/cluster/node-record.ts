// What a node says about itself in its heartbeat: cheap figures only (no I/O), read every beat.
import { cpus, hostname, loadavg } from 'node:os';

export interface NodeStats {
  readonly agents: number;
}

export interface NodeIdentity {
  readonly node_id: string;
  readonly role: string;
  readonly version: string;
  readonly host: string;
  readonly pid: number;
  readonly started_at: string;
  readonly kinds: readonly string[];
}

export interface NodeRecord extends NodeIdentity {
  readonly heartbeat_at: string;
  readonly agents: number;
  readonly cpus: number;
  readonly load_avg_1m: number;
  readonly rss_bytes: number;
}

export function nodeRecord(identity: NodeIdentity, stats: NodeStats, heartbeatAt: string): NodeRecord {
  return {
    ...identity,
    heartbeat_at: heartbeatAt,
    agents: stats.agents,
    cpus: cpus().length,
    load_avg_1m: Math.round(loadavg()[0]! * 100) / 100,
    rss_bytes: process.memoryUsage.rss(),
  };
}

export function thisHost(): string {
  return hostname();
}

/** Signal 0 checks a process exists without touching it; EPERM means it exists under another user. */
export function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
