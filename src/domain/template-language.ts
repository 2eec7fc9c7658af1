// The template language: Handlebars, compiled once per template text, rendering plain text. Values are
// never HTML-escaped here: each channel escapes the rendered text once for its own format (HTML for the
// email's HTML part, Telegram HTML, Slack mrkdwn, Discord markdown), and SMS and push get it as written.
import Handlebars from 'handlebars';

/** A template that does not compile, or that uses what Herald does not offer (partials, unknown helpers). */
export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
}

type Node = hbs.AST.Node;
type Program = hbs.AST.Program;
type Mustache = hbs.AST.MustacheStatement;
type Block = hbs.AST.BlockStatement;
type Path = hbs.AST.PathExpression;

// An isolated instance: helpers registered on the global Handlebars by any other package never reach it.
const handlebars = Handlebars.create();

/** The internal helper every `{{value}}` becomes: prints a value the way Herald always has. */
const VALUE_HELPER = 'heraldValue';

/** Missing and null print nothing; objects and arrays print as JSON (not `[object Object]`). */
function printValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
handlebars.registerHelper(VALUE_HELPER, printValue);

/** Built-in helpers and how many arguments each takes; nothing else may be called. */
const HELPER_ARITY: Record<string, number> = { if: 1, unless: 1, each: 1, with: 1, lookup: 2 };

const COMPILE_OPTIONS = {
  noEscape: true,
  strict: false,
  knownHelpersOnly: true,
  knownHelpers: { [VALUE_HELPER]: true, log: false, helperMissing: false, blockHelperMissing: false },
} as const;

const RUNTIME_OPTIONS: Handlebars.RuntimeOptions = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
};

/** A number as a path segment (`{{items.0}}`): Herald's earlier syntax took it, Handlebars wants `[0]`. */
const NUMERIC_SEGMENT = /(?<!\\)\{\{(\s*)([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)(\s*)\}\}/g;
const bracketNumbers = (text: string) =>
  text.replace(NUMERIC_SEGMENT, (_, before: string, path: string, after: string) => {
    const segments = path.split('.').map((s) => (/^\d+$/.test(s) ? `[${s}]` : s));
    return `{{${before}${segments.join('.')}${after}}}`;
  });

const where = (node: Node) => `line ${node.loc.start.line}, column ${node.loc.start.column + 1}`;

/**
 * Checks what the compiler does not, and turns each `{{value}}` into a call of the value helper, so
 * that a variable named like a helper (`{{log}}`) is still the variable, and objects print as JSON.
 */
function prepare(program: Program): Program {
  for (const statement of program.body) prepareStatement(statement);
  return program;
}

function prepareStatement(node: Node): void {
  switch (node.type) {
    case 'PartialStatement':
    case 'PartialBlockStatement':
      throw new TemplateSyntaxError(`partials ({{> name}}) are not supported (${where(node)})`);
    case 'Decorator':
    case 'DecoratorBlock':
      throw new TemplateSyntaxError(`decorators ({{* name}}) are not supported (${where(node)})`);
    case 'MustacheStatement': {
      const mustache = node as Mustache;
      checkArity(mustache);
      if (mustache.path.type === 'PathExpression' && mustache.params.length === 0 && !mustache.hash) {
        mustache.params = [mustache.path];
        mustache.path = {
          type: 'PathExpression',
          data: false,
          depth: 0,
          parts: [VALUE_HELPER],
          original: VALUE_HELPER,
          loc: mustache.loc,
        } as Path;
      }
      return;
    }
    case 'BlockStatement': {
      const block = node as Block;
      checkArity(block);
      if (block.program) prepare(block.program);
      if (block.inverse) prepare(block.inverse);
      return;
    }
  }
}

function checkArity(node: Mustache | Block): void {
  if (node.path.type !== 'PathExpression') return;
  const name = (node.path as Path).original;
  const arity = Object.hasOwn(HELPER_ARITY, name) ? HELPER_ARITY[name] : undefined;
  const isCall = node.type === 'BlockStatement' || node.params.length > 0 || Boolean(node.hash);
  if (arity !== undefined && isCall && node.params.length !== arity) {
    throw new TemplateSyntaxError(
      `${name} takes ${arity === 1 ? 'one argument' : `${arity} arguments`} (${where(node)})`,
    );
  }
  if (name === VALUE_HELPER && isCall) throw new TemplateSyntaxError(`${name} is reserved (${where(node)})`);
}

/** Handlebars' messages span lines (the source line and a caret); one line reads better in a problem. */
function oneLine(message: string): string {
  const unknown = /^You specified knownHelpersOnly, but used the unknown helper (\S+) - (\d+):(\d+)$/.exec(
    message,
  );
  if (unknown) {
    const [, name, line, column] = unknown;
    return `unknown helper ${name} (line ${line}, column ${Number(column) + 1}); the helpers are ${Object.keys(HELPER_ARITY).join(', ')}`;
  }
  return message
    .split('\n')
    .filter((line) => !/^-*\^$/.test(line))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function parse(text: string): Program {
  try {
    return prepare(handlebars.parse(bracketNumbers(text)));
  } catch (error) {
    if (error instanceof TemplateSyntaxError) throw error;
    throw new TemplateSyntaxError(oneLine((error as Error).message));
  }
}

/**
 * Refuses template text that would not render: a syntax error, a partial, a helper Herald does not
 * have, a built-in helper with the wrong number of arguments.
 */
export function checkTemplate(text: string): void {
  try {
    // Compiles to source only (nothing runs): the compiler's own checks, such as unknown helpers.
    handlebars.precompile(parse(text), COMPILE_OPTIONS);
  } catch (error) {
    if (error instanceof TemplateSyntaxError) throw error;
    throw new TemplateSyntaxError(oneLine((error as Error).message));
  }
}

type Compiled = HandlebarsTemplateDelegate<Record<string, unknown>>;

/** Compiled templates by their text, the least recently used dropped past the limit. */
const MAX_CACHED = 1000;
const compiled = new Map<string, Compiled>();

export function compiledTemplate(text: string): Compiled {
  const cached = compiled.get(text);
  if (cached) {
    compiled.delete(text);
    compiled.set(text, cached);
    return cached;
  }
  checkTemplate(text);
  const template = handlebars.compile<Record<string, unknown>>(parse(text), COMPILE_OPTIONS);
  compiled.set(text, template);
  if (compiled.size > MAX_CACHED) compiled.delete(compiled.keys().next().value!);
  return template;
}

/** How many template texts are compiled and kept (for tests and metrics). */
export const compiledTemplateCount = () => compiled.size;

/** Renders template text with data as plain text; missing values render empty. */
export function renderTemplateText(text: string, data: Record<string, unknown>): string {
  return compiledTemplate(text)(data, RUNTIME_OPTIONS);
}
