/**
 * The file a worker thread runs, beside the module that starts it. Under vitest,
 * which runs the TypeScript sources, that is the built copy in dist/: Node 20
 * cannot run .ts in a worker, so `npm test` builds first.
 */
export function workerScript(name: string, from: string): URL {
  const url = new URL(name, from);
  if (!from.endsWith('.ts')) return url;
  const at = url.href.lastIndexOf('/src/');
  return new URL(url.href.slice(0, at) + '/dist/' + url.href.slice(at + 5));
}
