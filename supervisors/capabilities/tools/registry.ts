// The tools a node offers its agents, by name, and the one way to run them: look the tool up,
// validate the model's arguments against its schema, hand it the agent's settings for it.
import type { EffectContext } from '../../../actors/kind.js';
import type { Clock } from '../../../runtime/clock.js';
import { AuroraError } from '../../../runtime/errors.js';
import { compileValidator, type Validator } from '../../../runtime/validation.js';
import type { Tool, ToolContext, ToolFamily, ToolRegistry, ToolSpec } from './tool.js';

export interface ToolRegistryDeps {
  readonly clock: Clock;
  readonly tools?: readonly Tool[];
  readonly families?: readonly ToolFamily[];
}

interface Resolved {
  readonly spec: ToolSpec;
  readonly validate: Validator<Record<string, unknown>>;
  readonly configKey: string;
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<string>;
}

/** Throws (a wiring defect) when two tools share a name or a tool's name falls under a family's prefix. */
export function createToolRegistry(deps: ToolRegistryDeps): ToolRegistry {
  const families = [...(deps.families ?? [])];
  for (const [i, family] of families.entries()) {
    if (family.prefix === '') throw new Error('a tool family needs a non-empty prefix');
    const clash = families.find((other, j) => j !== i && other.prefix.startsWith(family.prefix));
    if (clash) throw new Error(`tool family prefixes "${family.prefix}" and "${clash.prefix}" overlap`);
  }
  const familyOf = (name: string): ToolFamily | undefined => families.find((f) => name.startsWith(f.prefix));

  const tools = new Map<string, Resolved>();
  for (const tool of deps.tools ?? []) {
    const { name } = tool.spec;
    if (tools.has(name)) throw new Error(`two tools are named "${name}"`);
    if (familyOf(name)) throw new Error(`tool "${name}" falls under the prefix of a tool family`);
    // Compiled here, so a tool with a broken schema fails at startup rather than at its first call.
    tools.set(name, {
      spec: tool.spec,
      validate: compileValidator(tool.spec.parameters),
      configKey: tool.configKey ?? name,
      run: (args, ctx) => tool.run(args, ctx),
    });
  }

  // A family may build its specs on demand; each distinct schema object is compiled once.
  const familyValidators = new WeakMap<object, Validator<Record<string, unknown>>>();
  const familyValidator = (spec: ToolSpec): Validator<Record<string, unknown>> => {
    let validate = familyValidators.get(spec.parameters);
    if (!validate) {
      validate = compileValidator(spec.parameters);
      familyValidators.set(spec.parameters, validate);
    }
    return validate;
  };

  const resolve = (name: string): Resolved | undefined => {
    const tool = tools.get(name);
    if (tool) return tool;
    const family = familyOf(name);
    const spec = family?.spec(name);
    if (!family || !spec) return undefined;
    return {
      spec,
      validate: familyValidator(spec),
      configKey: family.configKey ?? family.prefix.replace(/[:.]$/, ''),
      run: (args, ctx) => family.run(name, args, ctx),
    };
  };

  const unknownTool = (name: string): AuroraError => {
    const known = [...tools.keys(), ...families.map((f) => `${f.prefix}…`)].join(', ');
    return new AuroraError('invalid_request', `there is no tool named "${name}" (tools: ${known || 'none'})`);
  };

  return {
    has: (name) => resolve(name) !== undefined,

    specs: (names) =>
      names.map((name) => {
        const tool = resolve(name);
        if (!tool) throw unknownTool(name);
        return tool.spec;
      }),

    async run(name, args, ctx) {
      if (ctx.signal.aborted) throw cancelled(ctx.signal.reason);
      const tool = resolve(name);
      if (!tool) throw unknownTool(name);
      const checked = tool.validate(args);
      if (!checked.ok) throw new AuroraError('invalid_request', `invalid arguments for ${name}: ${checked.message}`);
      return tool.run(checked.value, toolContext(ctx, ctx.agent.config[tool.configKey], deps.clock));
    },

    names: () => [...tools.keys()],
    prefixes: () => families.map((f) => f.prefix),
    release(taskId) {
      for (const tool of deps.tools ?? []) tool.release?.(taskId);
      for (const family of families) family.release?.(taskId);
    },
  };
}

function toolContext(ctx: EffectContext, settings: unknown, clock: Clock): ToolContext {
  // Built field by field: the host's context may be a class whose methods a spread would lose.
  return {
    agent: ctx.agent,
    taskId: ctx.taskId,
    task: ctx.task,
    deadlineAt: ctx.deadlineAt,
    signal: ctx.signal,
    token: (text) => ctx.token(text),
    settings,
    clock,
  };
}

function cancelled(reason: unknown): AuroraError {
  if (reason instanceof AuroraError) return reason;
  return new AuroraError('task_cancelled', 'task cancelled', { cause: reason });
}
