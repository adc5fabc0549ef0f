#!/usr/bin/env node
// A launcher with no imports, so an old Node gets a clear message instead of a missing-module error.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  process.stderr.write(
    `llm-ledger needs Node.js 22.13 or newer (this is ${process.version}): it uses the built-in node:sqlite.\n` +
      'Run it through npm (npm run demo, npx llm-ledger ...), which uses the Node 24 the project installs.\n',
  );
  process.exit(3);
}
await import('./program.js');
