// npm run build: bundles the compiled CLI (dist/) into dist/bundle/, one file
// per entry plus shared chunks, which loads in far fewer file reads than dist/.
// It also patches libphonenumber-js while bundling (see README, "How
// libphonenumber-js is patched"): its matchesEntirely() builds a new RegExp
// on every call, and V8 drops compiled regexps at full garbage collections,
// so long patterns (GB's is 1,434 characters) were compiled again and again.
// The patch keeps each compiled pattern; test/phone-patch.test.ts checks that
// the patched and the stock library answer identically.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const MATCHES_ENTIRELY = /libphonenumber-js[\\/]es6[\\/]helpers[\\/]matchesEntirely\.js$/;
/** The stock function, exactly as the library writes it; the patch is refused if it changed. */
const STOCK = "return new RegExp('^(?:' + regularExpressionText + ')$').test(text);";

const patchLibphonenumber = {
  name: 'patch-libphonenumber',
  setup(bundle) {
    bundle.onLoad({ filter: MATCHES_ENTIRELY }, ({ path }) => {
      const source = readFileSync(path, 'utf8');
      if (!source.includes(STOCK)) throw new Error(`${path} changed: review the patch in bin/bundle.mjs before bundling`);
      return {
        loader: 'js',
        contents: 'const compiled = new Map();\n' + source.replace(STOCK, () =>
          "let regExp = compiled.get(regularExpressionText);\n" +
          "  if (regExp === undefined) compiled.set(regularExpressionText, regExp = new RegExp('^(?:' + regularExpressionText + ')$'));\n" +
          '  return regExp.test(text);'),
      };
    });
  },
};

await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'dist/cli.js', io: 'dist/io.js', worker: 'dist/pipeline/worker.js',
    'reader-worker': 'dist/webhooks/reader-worker.js', phone: 'dist/phone.js',
  },
  outdir: 'dist/bundle',
  // Workers are found beside the code that starts them: new URL('./worker.js', import.meta.url).
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native or lazily loaded packages stay in node_modules.
  external: ['lmdb', 'ioredis', 'undici', 'cli-progress', '../package.json'],
  // CommonJS dependencies bundled into ESM call require() for Node's own modules.
  banner: { js: "import { createRequire as __waGuardRequire } from 'node:module'; const require = __waGuardRequire(import.meta.url);" },
  plugins: [patchLibphonenumber],
  logLevel: 'warning',
});
