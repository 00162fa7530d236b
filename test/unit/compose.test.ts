// docker-compose.yml is checked here because this machine (and CI) has no Docker engine to bring
// it up: every long-running service has a healthcheck and a restart policy, start order waits on
// health, images are pinned, only Aurora is published beyond loopback, and Aurora is not root.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_FIELDS } from '../../runtime/config.js';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
  depends_on?: Record<string, { condition: string }> | string[];
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
const services = Object.entries(compose.services);
const oneShot = ([, s]: [string, Service]) => s.restart === 'no';
const longRunning = services.filter((entry) => !oneShot(entry));
const healthTest = (name: string) => compose.services[name]!.healthcheck!.test.join(' ');

describe('docker-compose.yml', () => {
  it('runs NATS, Redis, Ollama, Aurora and Prometheus, and a one-shot model pull', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['aurora', 'nats', 'ollama', 'ollama-pull', 'prometheus', 'redis']);
    expect(services.filter(oneShot).map(([name]) => name)).toEqual(['ollama-pull']);
  });

  it('gives every long-running service a healthcheck and a restart policy', () => {
    for (const [name, s] of longRunning) {
      expect(s.healthcheck?.test, `${name} healthcheck`).toBeInstanceOf(Array);
      expect(['always', 'unless-stopped', 'on-failure'], `${name} restart`).toContain(s.restart);
    }
  });

  it('checks each service the way its image allows', () => {
    expect(healthTest('nats')).toContain('http://127.0.0.1:8222/healthz');
    expect(read('nats.conf')).toMatch(/^http: 127\.0\.0\.1:8222$/m);
    expect(compose.services.nats!.command).toEqual(['-c', '/etc/nats/nats.conf']);
    expect(healthTest('redis')).toContain('redis-cli ping');
    expect(healthTest('ollama')).toContain('ollama list');
    // No curl in the Aurora image: the check must be Node asking the readiness probe.
    expect(compose.services.aurora!.healthcheck!.test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(healthTest('aurora')).toContain('http://127.0.0.1:8000/health/ready');
  });

  it('waits on health in every depends_on', () => {
    for (const [name, s] of services) {
      if (s.depends_on === undefined) continue;
      expect(Array.isArray(s.depends_on), `${name} depends_on uses the long form`).toBe(false);
      for (const [dep, { condition }] of Object.entries(s.depends_on)) {
        expect(condition, `${name} → ${dep}`).toBe('service_healthy');
        expect(compose.services[dep]?.healthcheck, `${dep} has the healthcheck ${name} waits on`).toBeDefined();
      }
    }
    expect(Object.keys(compose.services.aurora!.depends_on!).sort()).toEqual(['nats', 'ollama', 'redis']);
    expect(Object.keys(compose.services['ollama-pull']!.depends_on!)).toEqual(['ollama']);
  });

  it('pulls the default model once and points the pull at the Ollama service', () => {
    const pull = compose.services['ollama-pull']!;
    expect(pull.entrypoint).toEqual(['ollama', 'pull', 'llama2']);
    expect(pull.environment?.OLLAMA_HOST).toBe('http://ollama:11434');
    expect(pull.image).toBe(compose.services.ollama!.image);
  });

  it('pins every image to an exact version', () => {
    for (const [name, s] of services) {
      if (s.image === undefined) {
        expect(s.build, `${name} is built`).toBeDefined();
        continue;
      }
      expect(s.image, name).toMatch(/^[\w./-]+:v?\d+\.\d+\.\d+(-[\w.]+)?$|@sha256:[0-9a-f]{64}$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
    expect(read('Dockerfile')).toMatch(/^FROM node:\d+\.\d+\.\d+-/m);
  });

  it('publishes only Aurora beyond loopback', () => {
    for (const [name, s] of services) {
      for (const port of s.ports ?? []) {
        if (name === 'aurora') continue;
        expect(port, `${name} publishes ${port}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      }
    }
    expect(compose.services.aurora!.ports).toEqual(['8000:8000']);
  });

  it('sets only variables Aurora reads, and the retry of its first connections', () => {
    const known = new Set(Object.values(CONFIG_FIELDS).map((f) => f.env));
    const env = compose.services.aurora!.environment!;
    for (const name of Object.keys(env)) expect(known, name).toContain(name);
    expect(Number(env.CONNECT_ATTEMPTS)).toBeGreaterThan(1);
  });

  it('has Prometheus load the scrape config and the alert rules from ops/prometheus', () => {
    const volumes = compose.services.prometheus!.volumes!;
    expect(volumes).toContain('./ops/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(volumes).toContain('./ops/prometheus/aurora-alerts.yml:/etc/prometheus/aurora-alerts.yml:ro');
    const prometheus = parse(read('ops/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: Array<{ metrics_path: string; static_configs: Array<{ targets: string[] }> }>;
    };
    expect(prometheus.rule_files).toEqual(['aurora-alerts.yml']);
    expect(prometheus.scrape_configs[0]).toMatchObject({ metrics_path: '/metrics', static_configs: [{ targets: ['aurora:8000'] }] });
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('runs Aurora as a user other than root, owning the data directory', () => {
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(users.at(-1));
    expect(dockerfile).toMatch(/chown node:node \/data/);
    expect(dockerfile).toMatch(/DATABASE_PATH=\/data\//);
  });
});
