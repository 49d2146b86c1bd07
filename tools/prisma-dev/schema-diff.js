// The SQL that turns one Prisma schema into another, from Prisma 6.19's
// offline WASM schema engine (`prisma migrate diff --from-schema-datamodel …
// --to-schema-datamodel … --script`). Only this datamodel-to-datamodel diff is
// used: 6.19's migrate deploy/dev fail here and --from-migrations writes to
// the database it is given (docs/decisions/0002-migrations.md).
//
//   node tools/prisma-dev/schema-diff.js (--from <schema.prisma> | --from-empty) --to <schema.prisma>
//
// prints the SQL. Needs PostgreSQL reachable at DATABASE_URL's server: the
// engine connects (to its `postgres` database) even though it only diffs files.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/leadrouter';
// Prisma 6.19 insists on both engines' paths resolving to files before it
// starts; neither is loaded for a diff with the "js" engine, so both point at
// the stub that fails if anything ever runs it.
const ENGINE_STUB = path.join(ROOT, 'scripts/no-schema-engine.sh');

function prismaCli() {
  const pkgPath = require.resolve('prisma/package.json', { paths: [__dirname] });
  const { version } = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
  if (!version.startsWith('6.19.')) {
    throw new Error(
      `tools/prisma-dev resolved prisma ${version} (${pkgPath}), not 6.19.x: run npm install -w tools/prisma-dev`,
    );
  }
  return path.join(path.dirname(pkgPath), 'build/index.js');
}

/** Prisma 7 forbids `url` in the datasource block and 6.19 requires it: give the copy one. */
function toPrisma619(schemaText) {
  const datasource = /(datasource\s+\w+\s*\{)([^}]*)\}/;
  if (!datasource.test(schemaText)) throw new Error('schema has no datasource block');
  return schemaText.replace(datasource, (_all, open, body) => {
    const kept = body
      .split('\n')
      .filter((line) => !/^\s*(url|directUrl|shadowDatabaseUrl)\s*=/.test(line))
      .join('\n');
    return `${open}\n  url = env("PRISMA_DEV_DATABASE_URL")${kept}}`;
  });
}

function maintenanceUrl(databaseUrl) {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

/**
 * @param {{ from: string | null, to: string, databaseUrl?: string }} opts
 *   from: path of the old schema, null for an empty database; to: path of the new schema.
 * @returns {{ sql: string, empty: boolean }}
 */
function schemaDiff({ from, to, databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leadrouter-schema-diff-'));
  try {
    const copy = (file, name) => {
      const target = path.join(tmp, name);
      fs.writeFileSync(target, toPrisma619(fs.readFileSync(file, 'utf8')));
      return target;
    };
    const fromArgs = from === null ? ['--from-empty'] : ['--from-schema-datamodel', copy(from, 'from.prisma')];
    const args = [
      prismaCli(),
      'migrate',
      'diff',
      '--config',
      path.join(__dirname, 'prisma.config.js'),
      ...fromArgs,
      '--to-schema-datamodel',
      copy(to, 'to.prisma'),
      '--script',
      '--exit-code',
    ];
    const result = spawnSync(process.execPath, args, {
      cwd: __dirname,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        PRISMA_DEV_DATABASE_URL: maintenanceUrl(databaseUrl),
        PRISMA_SCHEMA_ENGINE_BINARY: ENGINE_STUB,
        PRISMA_QUERY_ENGINE_LIBRARY: ENGINE_STUB,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
      },
    });
    // --exit-code: 0 empty, 2 changes, anything else an error.
    if (result.status !== 0 && result.status !== 2) {
      const why = (result.stderr || '').replace(/^Loaded Prisma config from .*$/m, '').trim();
      throw new Error(
        `prisma migrate diff failed (${result.error ? result.error.message : `exit ${result.status}`}): ${why}`,
      );
    }
    return { sql: result.stdout, empty: result.status === 0 };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

module.exports = { schemaDiff, toPrisma619 };

if (require.main === module) {
  const argv = process.argv.slice(2);
  const value = (flag) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const to = value('--to');
  const from = argv.includes('--from-empty') ? null : value('--from');
  if (!to || from === undefined) {
    console.error(
      'usage: node tools/prisma-dev/schema-diff.js (--from <schema.prisma> | --from-empty) --to <schema.prisma>',
    );
    process.exit(64);
  }
  try {
    process.stdout.write(schemaDiff({ from: from && path.resolve(from), to: path.resolve(to) }).sql);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
