// ESLint: typed rules for the TypeScript sources and tests, and the import
// boundaries between workspaces (docs/decisions/0004-lint-and-boundaries.md).
// Cycles are checked by madge in `npm run lint`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { defineConfig, globalIgnores } = require('eslint/config');
const tseslint = require('typescript-eslint');

const ROOT = __dirname;

/** Every workspace under packages/ and services/: its directory, package name and @leadrouter dependencies. */
const workspaces = ['packages', 'services'].flatMap((group) =>
  fs
    .readdirSync(path.join(ROOT, group), { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(ROOT, group, d.name, 'package.json')))
    .map((d) => {
      const dir = `${group}/${d.name}`;
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8'));
      const deps = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies });
      return { dir, group, name: pkg.name, deps: deps.filter((n) => n.startsWith('@leadrouter/')) };
    }),
);

// Imports between workspaces must be declared dependencies (no-restricted-imports
// below), so an acyclic dependency graph means no import cycle between
// workspaces. madge, which does not follow package imports, checks the files.
(function assertNoWorkspaceCycle() {
  const byName = new Map(workspaces.map((ws) => [ws.name, ws]));
  const done = new Set();
  const visit = (name, trail) => {
    if (trail.includes(name)) {
      throw new Error(`eslint.config.js: workspace dependency cycle: ${[...trail, name].join(' -> ')}`);
    }
    if (done.has(name) || !byName.has(name)) return;
    for (const dep of byName.get(name).deps) visit(dep, [...trail, name]);
    done.add(name);
  };
  for (const ws of workspaces) visit(ws.name, []);
})();

/**
 * The layers (ADR 0022), lowest first: a workspace depends on workspaces of its own layer or a lower one only.
 * packages/api, the HTTP contract, is used by the use cases and the services, never by what stores, queues,
 * routes or sends a lead (their shared shapes are packages/core's).
 */
const LAYERS = [
  ['packages/core', 'packages/config', 'packages/metrics'],
  ['packages/money'],
  ['packages/db', 'packages/queue', 'packages/routing', 'packages/delivery'],
  ['packages/api'],
  ['packages/lifecycle'],
  ['packages/cli', 'services/*'],
];
(function assertLayers() {
  const layerOf = (dir) => LAYERS.findIndex((layer) => layer.some((d) => d === dir || d === `${dir.split('/')[0]}/*`));
  const byName = new Map(workspaces.map((ws) => [ws.name, ws]));
  for (const ws of workspaces) {
    const own = layerOf(ws.dir);
    if (own < 0) throw new Error(`eslint.config.js: ${ws.dir} is in no layer (LAYERS)`);
    for (const dep of ws.deps.map((n) => byName.get(n)).filter(Boolean)) {
      if (layerOf(dep.dir) > own) {
        throw new Error(`eslint.config.js: ${ws.dir} depends on ${dep.dir}, a higher layer (ADR 0022)`);
      }
    }
  }
})();

/** Libraries that do I/O, and our packages that do: pure code (PURE_SOURCES) must not import them. */
const IO_MODULES = [
  ...['express', 'bullmq', 'ioredis', 'pg', 'got', '@prisma', '@leadrouter/db', '@leadrouter/queue'].flatMap((m) => [
    m,
    `${m}/**`,
  ]),
  ...['http', 'https', 'http2', 'net', 'tls', 'dgram', 'dns', 'fs', 'child_process'].flatMap((m) => [
    m,
    `${m}/*`,
    `node:${m}`,
    `node:${m}/*`,
  ]),
];
/**
 * The pure sources, per workspace (ADR 0022): whole packages (core, routing,
 * money, api), and of packages/lifecycle only its decisions (src/decide/, and
 * the routing record it builds): its use cases around them do I/O through
 * packages/db and the queues.
 */
const PURE_SOURCES = {
  'packages/core': ['src/**/*.ts'],
  'packages/routing': ['src/**/*.ts'],
  'packages/money': ['src/**/*.ts'],
  'packages/api': ['src/**/*.ts'],
  'packages/lifecycle': ['src/decide/**/*.ts', 'src/record.ts'],
};

/** src/decide/ imports nothing of the use cases around it (they import it). */
const DECIDE_STAYS_INSIDE = {
  group: ['../*', '../**'],
  message: 'src/decide/ is pure: it imports only other decisions and pure packages, never the use cases around it.',
};

/**
 * A lead's status has one writer (ADR 0022). The statements of packages/db
 * that write it are used by packages/lifecycle only; SQL that writes `leads`
 * is written in packages/db's table module only, and nothing writes a lead
 * through Prisma (LEAD_WRITES below).
 */
const LEAD_STATUS_STATEMENTS = ['ACCEPT', 'ADVANCE', 'REOPEN_LEADS', 'SET_MONEY_STATUS', 'ERASE_PERSONAL_DATA'];
const LEAD_STATUS_OWNERS = ['packages/db', 'packages/lifecycle'];

const DEEP_IMPORTS = {
  group: ['@leadrouter/*/src', '@leadrouter/*/src/**', '@leadrouter/*/dist', '@leadrouter/*/dist/**'],
  message: "Import the package's entry point ('@leadrouter/name'); add an export there if something is missing.",
};

/** no-restricted-imports for one workspace: deep imports, undeclared workspace packages, and I/O if it is pure. */
function restrictedImports(ws, { io, extra = [] }) {
  const paths = workspaces
    .filter((other) => other.name !== ws.name && !ws.deps.includes(other.name))
    .map((other) => ({
      name: other.name,
      message:
        other.group === 'services'
          ? ws.group === 'services'
            ? 'Services must not import each other: move shared code into a package.'
            : 'Packages must not depend on services.'
          : `${ws.dir} does not declare ${other.name} as a dependency in its package.json.`,
    }));
  if (!LEAD_STATUS_OWNERS.includes(ws.dir) && ws.deps.includes('@leadrouter/db')) {
    paths.push({
      name: '@leadrouter/db',
      importNames: LEAD_STATUS_STATEMENTS,
      message: "A lead's status is written by packages/lifecycle only (ADR 0022): call its use case.",
    });
  }
  const patterns = [DEEP_IMPORTS, ...extra];
  if (io) {
    patterns.push({
      group: IO_MODULES,
      message: `${ws.dir} is pure (no I/O): take data as arguments and leave I/O to services and the I/O packages.`,
    });
  }
  return ['error', { paths, patterns }];
}

/** The workspace a path (relative to the repository root, with /) belongs to: "packages/x", "services/x", "test" or "". */
function workspaceOf(rel) {
  const m = /^(packages|services)\/[^/]+(?=\/|$)/.exec(rel) ?? /^test(?=\/|$)/.exec(rel);
  return m ? m[0] : '';
}

const isTestFile = (file) => /\.test\.ts$/.test(file);

/**
 * Relative imports stay inside their workspace: another package is imported by
 * its name. Exceptions: tests (test/ and *.test.ts) may import test/support;
 * test/ may import services' sources (tests stand the apps up in-process); the
 * files listed in `allowFrom` may import any workspace's sources.
 */
const noCrossWorkspaceRelative = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid relative imports that reach into another workspace' },
    schema: [
      {
        type: 'object',
        properties: { allowFrom: { type: 'array', items: { type: 'string' } } },
        additionalProperties: false,
      },
    ],
    messages: {
      otherWorkspace: "'{{source}}' reaches into {{target}}: import it by its package name ({{name}}) instead.",
      service: "'{{source}}' reaches into {{target}}: {{from}} must not import a service.",
      testSupport: "'{{source}}' imports test code from production code.",
      outside: "'{{source}}' reaches outside {{from}}.",
    },
  },
  create(context) {
    const file = path.relative(ROOT, context.filename).split(path.sep).join('/');
    const from = workspaceOf(file);
    const { allowFrom = [] } = context.options[0] ?? {};
    if (!from || allowFrom.includes(file)) return {};
    function check(node) {
      if (!node || node.type !== 'Literal' || typeof node.value !== 'string' || !node.value.startsWith('.')) return;
      const target = path
        .relative(ROOT, path.resolve(path.dirname(context.filename), node.value))
        .split(path.sep)
        .join('/');
      const to = workspaceOf(target);
      if (to === from) return;
      const data = { source: node.value, target: to || target, from };
      if (to === 'test') {
        if (!isTestFile(file)) context.report({ node, messageId: 'testSupport', data });
      } else if (from === 'test' && to.startsWith('services/')) {
        // allowed: tests start the services in-process
      } else if (to.startsWith('services/') && from !== 'test') {
        context.report({ node, messageId: 'service', data });
      } else if (to) {
        const ws = workspaces.find((w) => w.dir === to);
        context.report({ node, messageId: 'otherWorkspace', data: { ...data, name: ws ? ws.name : to } });
      } else {
        context.report({ node, messageId: 'outside', data });
      }
    }
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      TSImportEqualsDeclaration: (node) =>
        node.moduleReference.type === 'TSExternalModuleReference' && check(node.moduleReference.expression),
      CallExpression: (node) =>
        node.callee.type === 'Identifier' && node.callee.name === 'require' && check(node.arguments[0]),
    };
  },
};

/**
 * The worker loads no typebox (ADR 0022, docs/performance.md "typebox out of the worker"): what it imports by value
 * takes core's values from `@leadrouter/core/runtime` and lifecycle's use cases from `@leadrouter/lifecycle/worker`,
 * never from their entries, which load the API's schemas, nor from @leadrouter/api. Types may come from anywhere.
 */
const WORKER_ENTRY = 'services/worker/src/main.ts';
const WORKER_FORBIDDEN = [
  { name: '@leadrouter/core', instead: "core's values from '@leadrouter/core/runtime' (export them there if missing)" },
  { name: '@leadrouter/lifecycle', instead: "the worker's use cases from '@leadrouter/lifecycle/worker'" },
  {
    name: '@leadrouter/api',
    instead: 'its types only (`import type`); run-time values shared with the worker belong in core/runtime',
  },
].map(({ name, instead }) => ({
  name,
  allowTypeImports: true,
  message: `The worker loads no typebox (ADR 0022), which ${name}'s entry does: import ${instead}.`,
}));

/**
 * The sources the worker loads, found from its entry by their value imports (not `import type`, nor imports whose
 * names are all `type`): relative ones and @leadrouter/* entries, resolved to src/ by the `@leadrouter/source`
 * condition. The walk stops at the entries WORKER_FORBIDDEN restricts; the files that import them are in the set.
 */
function workerSources() {
  const ts = require('typescript');
  const forbidden = new Set(WORKER_FORBIDDEN.map((p) => p.name));
  const resolve = (from, spec) => {
    if (spec.startsWith('.')) return path.resolve(path.dirname(from), spec).replace(/\.js$/, '.ts');
    const m = /^(@leadrouter\/[^/]+)(\/.+)?$/.exec(spec);
    const ws = m && !forbidden.has(spec) && workspaces.find((w) => w.name === m[1]);
    if (!ws) return null;
    const { exports } = JSON.parse(fs.readFileSync(path.join(ROOT, ws.dir, 'package.json'), 'utf8'));
    const target = exports[`.${m[2] ?? ''}`]['@leadrouter/source'];
    return path.join(ROOT, ws.dir, target);
  };
  const seen = new Set();
  const visit = (file) => {
    if (!file || seen.has(file)) return;
    seen.add(file);
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    for (const st of source.statements) {
      if (!st.moduleSpecifier) continue;
      const clause = ts.isImportDeclaration(st) ? st.importClause : st;
      const bindings = ts.isImportDeclaration(st) ? clause?.namedBindings : st.exportClause;
      const typeOnly =
        clause?.isTypeOnly ||
        (!clause?.name && bindings?.elements?.length > 0 && bindings.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) visit(resolve(file, st.moduleSpecifier.text));
    }
  };
  visit(path.join(ROOT, WORKER_ENTRY));
  return [...seen].map((f) => path.relative(ROOT, f).split(path.sep).join('/'));
}

const TS_SOURCES = ['packages/*/src/**/*.ts', 'services/*/src/**/*.ts', 'test/**/*.ts'];
/** The operator console: browser code (DOM, JSX) with a program of its own (ADR 0018). */
const CONSOLE_SOURCES = ['services/console/src/**/*.{ts,tsx}'];
const TESTS = ['**/*.test.ts', 'test/**/*.ts'];

module.exports = defineConfig(
  globalIgnores([
    '**/node_modules/',
    '**/dist/',
    'packages/db/src/generated/',
    'coverage/',
    '.leadrouter/',
    'prisma/migrations/',
  ]),

  // Everything: a few core rules that need no type information.
  {
    files: ['**/*.{js,cjs,mjs,ts}'],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
      'no-fallthrough': 'error',
      'no-self-compare': 'error',
      'no-unreachable': 'error',
      'no-template-curly-in-string': 'error',
    },
  },

  // Plain JavaScript (scripts, configs): CommonJS, no type information.
  {
    files: ['**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs', ecmaVersion: 2023 },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },

  // TypeScript outside the workspaces' sources (prisma.config.ts): syntax-level rules only.
  {
    files: ['**/*.ts'],
    ignores: [...TS_SOURCES, ...CONSOLE_SOURCES],
    extends: [tseslint.configs.recommended],
  },

  // The console's browser code: typed rules from its own tsconfig (DOM, Preact's JSX).
  {
    files: CONSOLE_SOURCES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: ['./services/console/tsconfig.json'], tsconfigRootDir: ROOT },
    },
    rules: {
      // The API's answer types are @leadrouter/api's (ADR 0019): imported as types, they add nothing to the bundle.
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@leadrouter/*'],
              allowTypeImports: true,
              message:
                'The console talks to the admin API over HTTP only; it imports no server package, only types (`import type`).',
            },
          ],
        },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: true },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
    },
  },

  // TypeScript sources and tests: typed rules. tsconfig.test.json holds all of
  // them in one program, with workspace imports resolved to src/ (no build needed).
  {
    files: TS_SOURCES,
    ignores: CONSOLE_SOURCES,
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: ROOT },
    },
    plugins: { leadrouter: { rules: { 'no-cross-workspace-relative': noCrossWorkspaceRelative } } },
    rules: {
      // Jest runs globalSetup/globalTeardown with plain Node resolution (no
      // `@leadrouter/source` condition, no moduleNameMapper), so they import
      // packages' sources by path rather than needing a build.
      'leadrouter/no-cross-workspace-relative': [
        'error',
        { allowFrom: ['test/global-setup.ts', 'test/global-teardown.ts'] },
      ],
      'no-restricted-imports': ['error', { patterns: [DEEP_IMPORTS] }],

      '@typescript-eslint/no-floating-promises': 'error',
      // Express 5 forwards a handler's rejected promise to the error middleware,
      // and its types declare handlers as returning `unknown`, so async handlers
      // pass as they are. Everything else that ignores a returned promise
      // (event listeners, timers, callbacks typed `=> void`) is still reported.
      '@typescript-eslint/no-misused-promises': [
        'error',
        {
          checksConditionals: true,
          checksSpreads: true,
          checksVoidReturn: {
            arguments: true,
            inheritedMethods: true,
            properties: true,
            returns: true,
            variables: true,
            attributes: false, // JSX only
          },
        },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: true },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
    },
  },

  // Per workspace: undeclared workspace packages, services importing each
  // other, and I/O in the pure packages (their tests may use fs and friends).
  ...workspaces
    .filter((ws) => ws.dir !== 'services/console')
    .flatMap((ws) => [
      {
        files: [`${ws.dir}/src/**/*.ts`],
        rules: { 'no-restricted-imports': restrictedImports(ws, { io: false }) },
      },
      ...(ws.dir in PURE_SOURCES
        ? [
            {
              files: PURE_SOURCES[ws.dir].map((glob) => `${ws.dir}/${glob}`),
              ignores: ['**/*.test.ts'],
              rules: {
                'no-restricted-imports': restrictedImports(ws, {
                  io: true,
                  extra: ws.dir === 'packages/lifecycle' ? [DECIDE_STAYS_INSIDE] : [],
                }),
              },
            },
          ]
        : []),
    ]),

  // The worker's sources import no schemas by value (WORKER_FORBIDDEN).
  {
    files: workerSources(),
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { paths: WORKER_FORBIDDEN }] },
  },

  // No lead is written outside packages/db's table module: no SQL that inserts
  // or updates `leads`, no Prisma write of a lead (ADR 0022). Tests set up rows.
  // And no `export *`: a package's entry names what it exports.
  {
    files: ['packages/*/src/**/*.ts', 'services/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'packages/db/src/tables/leads.ts', ...CONSOLE_SOURCES],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['TemplateElement[value.raw', 'Literal[value'].map((node) => ({
          selector: `${node}=/\\b(UPDATE|INSERT\\s+INTO)\\s+leads\\b/i]`,
          message:
            'SQL that writes leads lives in packages/db/src/tables/leads.ts, used by packages/lifecycle (ADR 0022).',
        })),
        {
          selector:
            "CallExpression[callee.property.name=/^(create|createMany|createManyAndReturn|update|updateMany|updateManyAndReturn|upsert)$/][callee.object.property.name='lead']",
          message:
            "A lead is written by packages/lifecycle through packages/db's statements, not through Prisma (ADR 0022).",
        },
        ...[
          'TaggedTemplateExpression[tag.property.name=/^\\$(queryRaw|executeRaw)/]',
          'CallExpression[callee.property.name=/^\\$(queryRaw|executeRaw)/]',
          "MemberExpression[object.name='Prisma'][property.name=/^(sql|raw|join|empty)$/]",
        ].map((selector) => ({
          selector,
          message:
            "SQL is a typed statement of packages/db's table modules (defineStatement), which the schema test describes against the migrated schema; Prisma's raw SQL is neither typed nor described (ADR 0020).",
        })),
        {
          selector: 'ExportAllDeclaration',
          message:
            'A module exports what it means to export, by name: no `export *`, which also exports what a package keeps for its own tests (ADR 0022).',
        },
      ],
    },
  },

  // Tests: response bodies are JSON (`any`) and are checked by assertions, not
  // by types; jest's matchers and mocks are loosely typed.
  {
    files: TESTS,
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // async helpers keep a promise-returning signature even when they do not await yet
      '@typescript-eslint/require-await': 'off',
    },
  },
);
