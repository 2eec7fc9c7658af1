// How a configuration variable is defined, once: its name, what a deployer needs to know about it, its
// default, how it is parsed and whether it is a secret. Core settings (this folder) and each channel
// (src/activities/channels/<channel>/config.ts) contribute slices; src/platform/config.ts composes them,
// and docs/configuration.md is generated from the same definitions (npm run docs:config).
import type { z } from 'zod';

export interface ConfigProblem {
  variable: string;
  message: string;
}

/** A missing, malformed or (in production) weak variable: start-up stops with a message that names it. */
export class ConfigError extends Error {
  constructor(
    readonly problems: ConfigProblem[],
    heading = 'Invalid configuration',
  ) {
    super(`${heading}:\n` + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Where a deployment is production: the image sets it, `npm run dev` and the tests do not. */
export const isProduction = (env: NodeJS.ProcessEnv): boolean => env.NODE_ENV === 'production';

/** Required (no default), defaulted (`default` applies when unset) or optional (undefined when unset). */
export type Presence = 'required' | 'default' | 'optional';

/** One environment variable. An empty value counts as unset, as in most shells' `VAR= cmd`. */
export interface Variable<T = unknown, P extends Presence = Presence> {
  /** One or two sentences for the reference: what it does, its format, what leaving it unset means. */
  readonly description: string;
  /** Parses and validates the raw text; its issue messages are what the deployer reads. */
  readonly parse: z.ZodType<T>;
  readonly presence: P;
  /** The raw text used when unset (presence 'default'), parsed like a value that was set. */
  readonly default?: string;
  /** For an optional variable, what unset amounts to when that is more than "unset" (for the reference). */
  readonly whenUnset?: string;
  /** Holds a credential: keep it in a secret store, out of files and logs. */
  readonly secret: boolean;
}

interface VariableSpec<S extends z.ZodType> {
  description: string;
  parse: S;
  secret?: boolean;
}

/** Defines a variable: `default` makes it defaulted, `required: true` required, neither optional. */
export function variable<S extends z.ZodType>(
  spec: VariableSpec<S> & { default: string },
): Variable<z.output<S>, 'default'>;
export function variable<S extends z.ZodType>(
  spec: VariableSpec<S> & { required: true },
): Variable<z.output<S>, 'required'>;
export function variable<S extends z.ZodType>(
  spec: VariableSpec<S> & { whenUnset?: string },
): Variable<z.output<S>, 'optional'>;
export function variable(
  spec: VariableSpec<z.ZodType> & { default?: string; required?: boolean; whenUnset?: string },
): Variable {
  return {
    description: spec.description,
    parse: spec.parse,
    presence: spec.default !== undefined ? 'default' : spec.required ? 'required' : 'optional',
    default: spec.default,
    whenUnset: spec.whenUnset,
    secret: spec.secret ?? false,
  };
}

export type Variables = Record<string, Variable>;

/** The parsed values of a slice's variables: optional ones may be undefined. */
export type ValuesOf<V extends Variables> = {
  [K in keyof V]: V[K] extends Variable<infer T, infer P>
    ? P extends 'optional'
      ? T | undefined
      : T
    : never;
};

/** A group of variables (a table in the reference) and the part of the Config object they make. */
export interface ConfigSlice<V extends Variables = Variables, F = unknown> {
  /** The group's heading in docs/configuration.md. */
  readonly title: string;
  /** A sentence under the heading, when the group needs one. */
  readonly summary?: string;
  readonly variables: V;
  /** Rules across the slice's variables, checked once every variable of every slice parsed. */
  check?(values: ValuesOf<V>): ConfigProblem[];
  /** What production (NODE_ENV=production) asks of the slice besides: weak settings it refuses or warns of. */
  production?: ProductionRules<V>;
  /** The slice's part of the Config object. */
  toConfig(values: ValuesOf<V>): F;
}

/** Settings that pass anywhere else but weaken a production deployment. */
export interface ProductionRules<V extends Variables = Variables> {
  /** One sentence for the reference (docs/configuration.md): what production refuses or warns of. */
  readonly description: string;
  /** Weak settings that stop start-up, each named. */
  refuse?(values: ValuesOf<V>): ConfigProblem[];
  /** Settings that work but leave something unprotected: each process logs them when it starts. */
  warn?(values: ValuesOf<V>): ConfigProblem[];
}

export function defineConfigSlice<V extends Variables, F>(slice: ConfigSlice<V, F>): ConfigSlice<V, F> {
  return slice;
}

/** The part of the Config object a slice makes. */
export type ConfigOf<S> = S extends ConfigSlice<Variables, infer F> ? F : never;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/** The object the slices make together, with what start-up should warn of. */
export type ComposedConfig<S extends readonly ConfigSlice[]> = UnionToIntersection<ConfigOf<S[number]>> & {
  /** Weak production settings that do not stop start-up (empty outside production): each process logs them. */
  startupWarnings: ConfigProblem[];
};

/**
 * Reads and validates the environment for these slices. Throws ConfigError naming every malformed or
 * missing variable at once; then, if each parsed, every broken rule across variables; then, in
 * production, every weak setting.
 */
export function readConfigSlices<const S extends readonly ConfigSlice[]>(
  slices: S,
  env: NodeJS.ProcessEnv,
): ComposedConfig<S> {
  const problems: ConfigProblem[] = [];
  const values = slices.map((slice) => {
    const parsed: Record<string, unknown> = {};
    for (const [name, definition] of Object.entries(slice.variables)) {
      const raw = env[name] === '' ? undefined : env[name];
      if (raw === undefined && definition.presence === 'required') {
        problems.push({ variable: name, message: 'is required' });
        continue;
      }
      const text = raw ?? definition.default;
      if (text === undefined) {
        parsed[name] = undefined;
        continue;
      }
      const result = definition.parse.safeParse(text);
      if (result.success) {
        parsed[name] = result.data;
      } else if (raw === undefined) {
        // A default that does not parse is Herald's bug, not the deployer's.
        throw new Error(`${name}'s default ${JSON.stringify(text)} is invalid: ${result.error.message}`);
      } else {
        for (const issue of result.error.issues) problems.push({ variable: name, message: issue.message });
      }
    }
    return parsed as ValuesOf<Variables>;
  });
  if (problems.length > 0) throw new ConfigError(problems);

  slices.forEach((slice, i) => problems.push(...(slice.check?.(values[i]!) ?? [])));
  if (problems.length > 0) throw new ConfigError(problems);

  const startupWarnings: ConfigProblem[] = [];
  if (isProduction(env)) {
    slices.forEach((slice, i) => {
      problems.push(...(slice.production?.refuse?.(values[i]!) ?? []));
      startupWarnings.push(...(slice.production?.warn?.(values[i]!) ?? []));
    });
    if (problems.length > 0) throw new ConfigError(problems, 'Refused in production (NODE_ENV=production)');
  }

  return Object.assign(
    { startupWarnings },
    ...slices.map((slice, i) => slice.toConfig(values[i]!)),
  ) as ComposedConfig<S>;
}

/** Every variable the slices define, by name; a name defined twice is a mistake. */
export function variablesOf(slices: readonly ConfigSlice[]): Map<string, Variable> {
  const all = new Map<string, Variable>();
  for (const slice of slices) {
    for (const [name, definition] of Object.entries(slice.variables)) {
      if (all.has(name)) throw new Error(`${name} is defined twice (again in "${slice.title}")`);
      all.set(name, definition);
    }
  }
  return all;
}
