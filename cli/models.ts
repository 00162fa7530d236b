// aurora models list|show|load|unload|pull. A pull follows its model.pull.progress events on the
// stream with a progress bar (cli-progress) on a terminal, one line per step elsewhere.
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { PullRecord } from '../runtime/protocol/index.js';
import { bytes, fields, table, time, writeJson, writeLine, type Io } from './output.js';
import type { ContextOf } from './context.js';

export function registerModels(program: Command, contextOf: ContextOf): void {
  const models = program.command('models').description('models on the LLM provider: list, show, load, unload, pull');

  models
    .command('list')
    .alias('ls')
    .description('models loaded in the provider (warm)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const res = await client.models.list();
      if (json) return writeJson(io, res);
      const loaded = Object.values(res.models);
      if (loaded.length === 0) return writeLine(io, 'no models loaded (load one: aurora models load <name>)');
      writeLine(io, table(['name', 'provider', 'loaded at'], loaded.map((m) => [m.name, m.provider, time(m.loaded_at)])));
    });

  models
    .command('show <name>')
    .description('whether a model is installed and loaded')
    .option('--provider <provider>', 'LLM provider', 'ollama')
    .action(async (name: string, opts: { provider: string }, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const s = await client.models.status(name, opts.provider);
      if (json) return writeJson(io, s);
      writeLine(
        io,
        fields([
          ['name', s.name],
          ['provider', s.provider],
          ['installed', s.installed ? 'yes' : 'no'],
          ['size', bytes(s.size_bytes)],
          ['loaded', s.loaded ? 'yes' : 'no'],
          ['loaded at', time(s.loaded_at)],
          ['expires', time(s.expires_at)],
        ]),
      );
    });

  models
    .command('load <name>')
    .description('load (warm) a model in the provider')
    .option('--provider <provider>', 'LLM provider', 'ollama')
    .option('--pull', 'pull it first when the provider does not have it')
    .action(async (name: string, opts: { provider: string; pull?: boolean }, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const res = await client.models.load({ name, provider: opts.provider, ...(opts.pull === true && { pull: true }) });
      if (json) return writeJson(io, res);
      if ('pull_id' in res) writeLine(io, `pulling ${res.name} first (${res.percent}%); follow it with: aurora models pull ${res.name}`);
      else writeLine(io, `loaded ${res.name} (${res.provider})`);
    });

  models
    .command('unload <name>')
    .description('unload a model from the provider')
    .option('--provider <provider>', 'LLM provider', 'ollama')
    .action(async (name: string, opts: { provider: string }, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const res = await client.models.unload(name, opts.provider);
      if (json) return writeJson(io, res);
      writeLine(io, `unloaded ${name}`);
    });

  models
    .command('pull <name>')
    .description('pull a model into the provider, with progress (joins a pull of it already running)')
    .option('--provider <provider>', 'LLM provider', 'ollama')
    .action(async (name: string, opts: { provider: string }, cmd: Command) => {
      const { client, json, io } = contextOf(cmd);
      const progress = json ? null : progressView(io, name);
      try {
        const pull = await client.models.pullAndFollow({ name, provider: opts.provider }, (p) => progress?.update(p));
        progress?.stop();
        if (json) return writeJson(io, pull);
        writeLine(io, `pulled ${pull.name} (${bytes(pull.total_bytes)})`);
      } finally {
        progress?.stop();
      }
    });
}

interface ProgressView {
  update(pull: PullRecord): void;
  stop(): void;
}

/** A bar on a terminal; elsewhere (a pipe, a log) one line each time the percent or the step changes. */
function progressView(io: Io, name: string): ProgressView {
  if (io.stderr.isTTY === true) {
    const bar = new SingleBar(
      {
        format: `${name} [{bar}] {percentage}% | {done} / {size} | {detail}`,
        stream: io.stderr,
        hideCursor: true,
        barsize: 30,
      },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const payload = { done: bytes(p.completed_bytes), size: bytes(p.total_bytes), detail: p.detail ?? '' };
        if (!started) {
          bar.start(100, p.percent, payload);
          started = true;
        } else bar.update(p.percent, payload);
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  let last = '';
  return {
    update(p) {
      const line = `${name}: ${p.percent}% ${p.detail ?? p.status}`;
      if (line === last) return;
      last = line;
      io.stderr.write(`${line}${p.total_bytes > 0 ? ` (${bytes(p.completed_bytes)} / ${bytes(p.total_bytes)})` : ''}\n`);
    },
    stop() {},
  };
}
