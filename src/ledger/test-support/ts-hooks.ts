/**
 * Lets a child process run the library from its TypeScript sources, as the tests do: Node strips
 * the types (`--experimental-transform-types`, for the constructor parameter properties the sources
 * use), and this maps the sources' `./x.js` imports to the `./x.ts` beside them. Loaded with
 * `node --import` (see `TS_CHILD_ARGS`); holds only syntax Node can strip, so it needs no hook itself.
 */
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (/^\.\.?\//.test(specifier) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const source = new URL(`${specifier.slice(0, -'.js'.length)}.ts`, context.parentURL);
      if (existsSync(fileURLToPath(source))) return nextResolve(source.href, context);
    }
    return nextResolve(specifier, context);
  },
});
