// npm run build: bundles the compiled CLI (dist/) into dist/bundle/, one file
// per entry plus shared chunks, which loads in far fewer file reads than dist/.
// It also patches libphonenumber-js while bundling (see README, "How
// libphonenumber-js is patched"): its matchesEntirely() builds a new RegExp
// on every call, and V8 drops compiled regexps at full garbage collections,
// so long patterns (GB's is 1,434 characters) were compiled again and again.
// The patch keeps each compiled pattern, returns plain "+digits" from
// parseIncompletePhoneNumber at once, and makes three of Babel's helpers
// cheaper (object spread, for-of over arrays, the class-call check);
// test/phone-patch.test.ts checks that the patched and the stock library
// answer identically. commander is patched in one line too (LINE_PATCHES).
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const LIBPHONENUMBER = /libphonenumber-js[\\/]es6[\\/].*\.js$/;
/** matchesEntirely's line that compiles a RegExp on every call, and the line that keeps each compiled one. */
const STOCK = "return new RegExp('^(?:' + regularExpressionText + ')$').test(text);";
const CACHED = "let regExp = compiled.get(regularExpressionText);\n" +
  "  if (regExp === undefined) compiled.set(regularExpressionText, regExp = new RegExp('^(?:' + regularExpressionText + ')$'));\n" +
  '  return regExp.test(text);';
/**
 * Babel's object-spread helper, as compiled into the library's files. It copies
 * the library's own option objects (plain, no getters), for which
 * Object.assign gives the same object at a fraction of the cost.
 */
const SPREAD = 'function _objectSpread(e) { for (var r = 1; r < arguments.length; r++) { var t = null != arguments[r] ? arguments[r] : {}; r % 2 ? ownKeys(Object(t), !0).forEach(function (r) { _defineProperty(e, r, t[r]); }) : Object.getOwnPropertyDescriptors ? Object.defineProperties(e, Object.getOwnPropertyDescriptors(t)) : ownKeys(Object(t)).forEach(function (r) { Object.defineProperty(e, r, Object.getOwnPropertyDescriptor(t, r)); }); } return e; }';
const ASSIGN = 'function _objectSpread(e) { for (var r = 1; r < arguments.length; r++) { if (null != arguments[r]) Object.assign(e, arguments[r]); } return e; }';
/**
 * Babel's for-of helper: every call site in the library iterates an array, and
 * the stock helper allocates a result object per element (parseIncompletePhoneNumber
 * walks each number character by character, twice a parse). The patched one
 * reuses one result object for arrays; Babel's loops read `.value` at once.
 */
const FOR_OF = 'function _createForOfIteratorHelperLoose(r, e) { var t =';
const FOR_OF_ARRAYS = 'function _createForOfIteratorHelperLoose(r, e) { if (Array.isArray(r)) { var i = 0, step = { done: !1, value: void 0 }; ' +
  'return function () { if (i >= r.length) return { done: !0 }; step.value = r[i++]; return step; }; } var t =';
/**
 * parseIncompletePhoneNumber keeps a leading "+" and the digits, building its
 * result a character at a time (twice a parse); wa-guard hands it "+" and
 * ASCII digits only, which it would return unchanged: returned at once.
 */
const INCOMPLETE_STOCK = "export default function parseIncompletePhoneNumber(string) {\n  var result = '';";
const INCOMPLETE_FAST = "export default function parseIncompletePhoneNumber(string) {\n  if (/^\\+?[0-9]*$/.test(string)) return string;\n  var result = '';";
/** Babel's guard against calling a class without `new`, which the library never does: one instanceof per object built. */
const CLASS_CHECK = 'function _classCallCheck(a, n) { if (!(a instanceof n)) throw new TypeError("Cannot call a class as a function"); }';
const NO_CLASS_CHECK = 'function _classCallCheck() {}';

/**
 * Line patches: the file, its line exactly as the package writes it, and what
 * replaces it (`header`: added at the top of the file; `holds`: what else the
 * patch relies on). Bundling stops if a line changed: review the patch.
 */
const LINE_PATCHES = [
  { file: /libphonenumber-js[\\/]es6[\\/]helpers[\\/]matchesEntirely\.js$/, stock: STOCK, patched: CACHED, header: 'const compiled = new Map();\n' },
  { file: /libphonenumber-js[\\/]es6[\\/]parseIncompletePhoneNumber\.js$/, stock: INCOMPLETE_STOCK, patched: INCOMPLETE_FAST },
  /**
   * commander requires node:child_process when loaded, for git-style executable
   * subcommands, which wa-guard does not have; loading it (and net, dgram, …
   * with it) was a tenth of `--help`. The patched line loads it when a spawn is
   * asked for, so commander must use nothing of it but spawn.
   */
  {
    file: /commander[\\/]lib[\\/]command\.js$/,
    stock: "const childProcess = require('node:child_process');",
    patched: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
    holds: (source) => (source.match(/childProcess\.(\w+)/g) ?? []).every((use) => use === 'childProcess.spawn'),
  },
];

const patchDependencies = {
  name: 'patch-dependencies',
  setup(bundle) {
    // Every file a patch touches: the library's (Babel helpers) and those of the line patches.
    const filter = new RegExp([LIBPHONENUMBER, ...LINE_PATCHES.map(({ file }) => file)].map((r) => r.source).join('|'));
    bundle.onLoad({ filter }, ({ path }) => {
      let source = readFileSync(path, 'utf8');
      for (const patch of LINE_PATCHES.filter(({ file }) => file.test(path))) {
        if (!source.includes(patch.stock) || (patch.holds && !patch.holds(source))) {
          throw new Error(`${path} changed: review the patch in bin/bundle.mjs before bundling`);
        }
        source = (patch.header ?? '') + source.replace(patch.stock, () => patch.patched);
      }
      if (LIBPHONENUMBER.test(path)) {
        source = source.replaceAll(SPREAD, () => ASSIGN).replaceAll(FOR_OF, () => FOR_OF_ARRAYS).replaceAll(CLASS_CHECK, () => NO_CLASS_CHECK);
      }
      return { loader: 'js', contents: source };
    });
  },
};

// Chunk names carry hashes: a new build must not leave the old ones beside it.
rmSync(new URL('../dist/bundle', import.meta.url), { recursive: true, force: true });

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
  external: ['lmdb', 'ioredis', 'undici', 'cli-progress', '@modelcontextprotocol/sdk', 'zod', '../package.json'],
  // CommonJS dependencies bundled into ESM call require() for Node's own modules.
  banner: { js: "import { createRequire as __waGuardRequire } from 'node:module'; const require = __waGuardRequire(import.meta.url);" },
  plugins: [patchDependencies],
  logLevel: 'warning',
});
