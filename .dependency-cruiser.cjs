/* global module */
/**
 * One-way layers for src/, checked by dependency-cruiser (`npm run check:layers`, part of
 * `npm test` and `npm run lint`). The layers are described in docs/layers.md.
 *
 * Bottom to top; a folder of the core may import only folders of the layers below its own:
 *
 *   crypto                  hashing, keys, content encryption
 *   capture                 what of a call's text is kept: modes, PII redaction, digests
 *   record                  the record model: envelope, canonical JSON, ids
 *   log  providers  policy  the RFC 9162 log and checkpoints; wire formats and prices;
 *                           governance rules (three siblings: none imports another)
 *   config                  the configuration schema and loader, which validates with the parts above
 *   store                   the Store interface and its drivers
 *   ledger                  the core API: write, read, verify, prove, retain
 *   review                  the review desk for escalated calls
 *
 * Above the core are the surfaces: gateway, cli, mcp and sdk. They may import any part of the
 * core, and another surface only through its public entry (SURFACE_ENTRIES below). src/index.ts
 * is the package's entry: it may import anything, and nothing in src/ imports it.
 *
 * Type-only imports count (tsPreCompilationDeps): a type is as much a dependency as a value.
 * Tests (*.test.ts) and test support (test-support/) may import across layers and surfaces,
 * since the tests of one surface drive another; product code may not import either.
 */

/** The core, bottom layer first; folders in one inner array are siblings of one layer. */
const CORE_LAYERS = [['crypto'], ['capture'], ['record'], ['log', 'providers', 'policy'], ['config'], ['store'], ['ledger'], ['review']];

const SURFACES = ['gateway', 'cli', 'mcp', 'sdk'];

/**
 * What one surface may import of another. The CLI starts the gateway (`serve`, `demo`) through
 * the gateway's HTTP entry points and talks to its review API at the addresses the gateway
 * publishes; it starts the MCP server over stdio. src/index.ts exports the SDK wrappers through
 * src/sdk/index.ts. Everything else in a surface is its internals.
 */
const SURFACE_ENTRIES = [
  '^src/gateway/http/server[.]ts$',
  '^src/gateway/http/serve[.]ts$',
  '^src/gateway/http/addresses[.]ts$',
  '^src/mcp/stdio[.]ts$',
  '^src/mcp/server[.]ts$',
  '^src/sdk/index[.]ts$',
];

const TESTS = '([.]test[.]ts$|/test-support/)';
const folders = (names) => `^src/(${names.join('|')})/`;

const layerRules = CORE_LAYERS.flatMap((layer, i) => {
  const below = CORE_LAYERS.slice(0, i).flat();
  const notBelow = CORE_LAYERS.flat().filter((f) => !below.includes(f));
  return layer.map((folder) => ({
    name: `layer-${folder}`,
    comment: `src/${folder}/ may import only ${below.length ? below.map((f) => `src/${f}/`).join(', ') : 'nothing else in src/'} (the layers below it)`,
    severity: 'error',
    from: { path: `^src/${folder}/`, pathNot: TESTS },
    to: { path: folders(notBelow.filter((f) => f !== folder)) },
  }));
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles, of modules or (through the layer rules) of folders: layers are one-way.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'core-imports-surface',
      comment: `The core (${CORE_LAYERS.flat().join(', ')}) must not import a surface (${SURFACES.join(', ')}) or the package entry src/index.ts.`,
      severity: 'error',
      from: { path: folders(CORE_LAYERS.flat()), pathNot: TESTS },
      to: { path: `${folders(SURFACES)}|^src/index[.]ts$` },
    },
    {
      name: 'surface-imports-surface-internals',
      comment: `A surface may import another surface only through its public entry: ${SURFACE_ENTRIES.join(' ')}.`,
      severity: 'error',
      // `$1` in `to` is the surface the import is from: its own files are not another's internals.
      from: { path: folders(SURFACES), pathNot: TESTS },
      to: { path: folders(SURFACES), pathNot: ['^src/$1/', ...SURFACE_ENTRIES] },
    },
    {
      name: 'no-import-of-package-entry',
      comment: 'src/index.ts is what users import; product code inside src/ does not.',
      severity: 'error',
      from: { path: '^src/', pathNot: `${TESTS}|^src/index[.]ts$` },
      to: { path: '^src/index[.]ts$' },
    },
    {
      name: 'product-imports-test-code',
      comment: 'Product code (everything shipped in dist/) must not import tests or test support, which are not built.',
      severity: 'error',
      from: { path: '^src/', pathNot: TESTS },
      to: { path: TESTS },
    },
    {
      name: 'unknown-folder',
      comment: 'Every folder of src/ has a place in the layers; a new one must be added to CORE_LAYERS or SURFACES here, and to docs/layers.md.',
      severity: 'error',
      from: { path: '^src/[^/]+/', pathNot: `${folders([...CORE_LAYERS.flat(), ...SURFACES])}|${TESTS}` },
      to: {},
    },
  ],
  options: {
    includeOnly: '^src/',
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
