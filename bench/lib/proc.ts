// What another process on this machine costs, read from /proc: CPU time (user + system, all its
// threads) and resident memory. The suite weighs Aurora's process from outside, so the figures
// include nothing of the load generator's own work.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

/** CPU time the process has used so far (user + system, every thread), in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (field 14) and stime (field 15) are at 11 and 12.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / TICKS_PER_S) * 1e6;
}

/** Resident memory of the process now, in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}
