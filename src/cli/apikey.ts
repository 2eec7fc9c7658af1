// `npm run apikey -- <command>`: create, list and revoke the API keys stored (hashed) in the database.
import { parseArgs } from 'node:util';
import {
  apiKeyNameSchema,
  API_KEY_SCOPES,
  createApiKey,
  DEFAULT_SCOPES,
  listApiKeys,
  parseScopes,
  revokeApiKey,
  type ApiKeyScope,
  type ApiKeyView,
} from '../domain/api-keys.js';
import { loadConfigOrExit } from '../platform/config.js';
import { createDb, type Db } from '../store/db.js';

const USAGE = `Usage: npm run apikey -- <command>

  create --name <name> [--scopes <scopes>]
                           create a key and print it (shown this once only); scopes are
                           ${API_KEY_SCOPES.join(', ')}, comma-separated (default: ${DEFAULT_SCOPES.join(',')})
  list [--json]            list keys: id, name, prefix, scopes, created, last used, revoked
  revoke <id or prefix>    revoke a key; requests with it get 401 from then on

Scopes: send creates notifications and reads, cancels and retries its own; manage handles
users, preferences, templates and links and reads all notifications; admin does everything.

Reads DATABASE_URL from the environment.`;

const EX_USAGE = 64;

class UsageError extends Error {}

type Command =
  | { name: 'create'; keyName: string; scopes: ApiKeyScope[] }
  | { name: 'list'; json: boolean }
  | { name: 'revoke'; target: string }
  | { name: 'help' };

function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        scopes: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') return { name: 'help' };
  const allow = (options: string[], positionalCount: number) => {
    const extra = Object.keys(values).find((option) => !options.includes(option));
    if (extra) throw new UsageError(`${command} does not take --${extra}`);
    if (rest.length !== positionalCount)
      throw new UsageError(
        `${command} takes ${positionalCount || 'no'} argument${positionalCount === 1 ? '' : 's'}`,
      );
  };
  switch (command) {
    case 'create': {
      allow(['name', 'scopes'], 0);
      if (values.name === undefined) throw new UsageError('create needs --name <name>');
      const name = apiKeyNameSchema.safeParse(values.name);
      if (!name.success) throw new UsageError(`--name ${name.error.issues[0]!.message}`);
      if (values.scopes === undefined)
        return { name: 'create', keyName: name.data, scopes: [...DEFAULT_SCOPES] };
      const scopes = parseScopes(values.scopes);
      if (!scopes.success) throw new UsageError(`--scopes ${scopes.error.issues[0]!.message}`);
      return { name: 'create', keyName: name.data, scopes: scopes.data };
    }
    case 'list':
      allow(['json'], 0);
      return { name: 'list', json: values.json ?? false };
    case 'revoke':
      allow([], 1);
      return { name: 'revoke', target: rest[0]! };
    case undefined:
      throw new UsageError('Name a command');
    default:
      throw new UsageError(`Unknown command "${command}"`);
  }
}

const time = (date: Date | null) => (date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

function printTable(keys: ApiKeyView[]): void {
  if (keys.length === 0) {
    console.log('No API keys. Create one with: npm run apikey -- create --name <name>');
    return;
  }
  const rows = [
    ['ID', 'NAME', 'PREFIX', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
    ...keys.map((k) => [
      k.id,
      k.name,
      k.prefix,
      k.scopes.join(','),
      time(k.createdAt),
      time(k.lastUsedAt),
      time(k.revokedAt),
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

/** Runs one command; returns the exit code. */
async function run(db: Db, command: Exclude<Command, { name: 'help' }>): Promise<number> {
  switch (command.name) {
    case 'create': {
      const { key, view } = await createApiKey(db, command.keyName, command.scopes);
      console.log(`Created API key "${view.name}"`);
      console.log(`  id      ${view.id}`);
      console.log(`  prefix  ${view.prefix}`);
      console.log(`  scopes  ${view.scopes.join(',')}`);
      console.log(`  key     ${key}`);
      console.log('Store the key now: Herald keeps only its hash and cannot show it again.');
      return 0;
    }
    case 'list': {
      const keys = await listApiKeys(db);
      if (command.json) console.log(JSON.stringify(keys, null, 2));
      else printTable(keys);
      return 0;
    }
    case 'revoke': {
      const result = await revokeApiKey(db, command.target);
      switch (result.outcome) {
        case 'revoked':
          console.log(`Revoked API key "${result.view.name}" (${result.view.id})`);
          return 0;
        case 'already-revoked':
          console.error(
            `API key "${result.view.name}" (${result.view.id}) was already revoked at ${time(result.view.revokedAt)}`,
          );
          return 1;
        case 'not-found':
          console.error(`No API key has the id or prefix "${command.target}"`);
          return 1;
        case 'ambiguous':
          console.error(
            `${result.matches.length} API keys have the prefix "${command.target}"; revoke one by id:\n` +
              result.matches.map((k) => `  ${k.id}  ${k.name}`).join('\n'),
          );
          return 1;
      }
    }
  }
}

let command: Command;
try {
  command = parseCommand(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`${error.message}\n\n${USAGE}`);
  process.exit(EX_USAGE);
}
if (command.name === 'help') {
  console.log(USAGE);
  process.exit(0);
}

const db = createDb(loadConfigOrExit().databaseUrl, { max: 1 });
let code = 1;
try {
  code = await run(db, command);
} catch (error) {
  console.error(`apikey ${command.name} failed: ${(error as Error).message}`);
} finally {
  await db.$disconnect();
}
// Prisma on the pg adapter may keep the event loop alive after $disconnect: leave explicitly.
process.exit(code);
