import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, FIXTURES, ROOT, tempDir } from './helpers.js';

/**
 * The README's shell examples, run as written (README.md is read when the
 * tests run, so an example added later is run too): each ```sh block in a
 * fresh directory that has the repository's fixtures, with `wa-guard` and
 * `npx wa-guard` running this build. `wa-guard simulate` runs in the
 * background for the commands after it (on a free port: the README's port is
 * mapped to it), and every path an example creates must be one .gitignore
 * covers, as the examples are run from a checkout.
 */

/** Examples that cannot run offline, by a pattern of their command, and why. */
const SKIP: [RegExp, string][] = [
  [/^npm (ci|test|run bench)\b/, 'installs, builds or runs this suite itself'],
  [/--phone-number-id 1234567890\b/, 'a live send: needs a real Meta token and phone number id'],
  [/^wa-guard listen\b/, 'needs Meta\'s app secret, and runs until stopped'],
  [/^wa-guard report campaign\.csv\b/, 'needs a campaign sent into the store first (test/report.test.ts runs these)'],
  [/graph\.facebok\.invalid/, 'shows an unreachable API, which exits 1 by design (test/send-waits.test.ts runs it)'],
];

/** Files an example takes as the reader's own, given from the fixtures (one an example then writes to counts as made by it). */
const READER_FILES: Record<string, string> = {
  'suppression.csv': 'blacklist.csv',
  'webhooks.jsonl': 'webhooks.jsonl',
};

interface Block {
  line: number;
  commands: string[];
}

/** The ```sh blocks, as commands: continuation lines joined, comments dropped, split at `&&` and `;`. */
function shellBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const match of markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    const line = markdown.slice(0, match.index).split('\n').length;
    const text = match[1]!.replace(/\\\n\s*/g, ' ');
    const commands = text.split('\n').flatMap((l) => splitCommands(l)).map((c) => c.trim()).filter(Boolean);
    blocks.push({ line, commands });
  }
  return blocks;
}

/** One line's commands: a `#` outside quotes starts a comment; `&&` and `;` outside quotes separate commands. */
function splitCommands(line: string): string[] {
  const out = [''];
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === '\'') quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1]!))) break;
    else if (ch === ';' || (ch === '&' && line[i + 1] === '&')) {
      if (ch === '&') i++;
      out.push('');
      continue;
    }
    out[out.length - 1] += ch;
  }
  return out;
}

const running: ChildProcess[] = [];
afterEach(() => {
  while (running.length) running.pop()!.kill('SIGKILL');
});

/** A directory laid out like a checkout (the fixtures, the reader's files) and a bin directory of shims. */
function workspace(): { cwd: string; home: string; path: string } {
  const cwd = tempDir();
  const home = tempDir();
  const bin = tempDir();
  symlinkSync(FIXTURES, join(cwd, 'fixtures'));
  for (const [name, fixture] of Object.entries(READER_FILES)) copyFileSync(join(FIXTURES, fixture), join(cwd, name));
  writeFileSync(join(bin, 'wa-guard'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  // npx would fetch from the registry; here it only ever runs this build.
  writeFileSync(join(bin, 'npx'), '#!/bin/sh\n[ "$1" = wa-guard ] || { echo "npx $1: not in this test" >&2; exit 127; }\nshift\nexec wa-guard "$@"\n');
  chmodSync(join(bin, 'wa-guard'), 0o755);
  chmodSync(join(bin, 'npx'), 0o755);
  return { cwd, home, path: `${bin}:${process.env.PATH}` };
}

/** `wa-guard simulate …`, in the background on a free port; resolves with the port once it prints its URL. */
async function background(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn('/bin/sh', ['-c', `exec env ${command.replace(/\s*&$/, '').replace(/--port \d+/, '--port 0')}`], { cwd, env });
  running.push(child);
  let stderr = '';
  child.stderr!.on('data', (b) => { stderr += b; });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (b) => resolve(String(b).trim()));
    child.once('close', (code) => reject(new Error(`"${command}" exited ${code}: ${stderr}`)));
  });
  return Number(new URL(url).port);
}

/** Runs one block; resolves with what failed (command, exit code, output), empty when all ran. */
async function runBlock(block: Block, cwd: string, baseEnv: NodeJS.ProcessEnv): Promise<string[]> {
  const env = { ...baseEnv };
  const ports = new Map<string, number>();
  const failures: string[] = [];
  for (const command of block.commands) {
    if (SKIP.some(([pattern]) => pattern.test(command.replace(/^(\w+=\S+\s+)+/, '').replace(/^npx /, '')))) continue;
    const exported = /^export\s+(.*)$/.exec(command);
    if (exported) {
      // `…` stands for the reader's own secret: left unset, as the commands that need one are skipped.
      for (const [, name, value] of exported[1]!.matchAll(/(\w+)=(\S+)/g)) if (value !== '…') env[name!] = value;
      continue;
    }
    const withPorts = command.replace(/(127\.0\.0\.1|localhost):(\d+)/g, (all, host: string, port: string) => (ports.has(port) ? `${host}:${ports.get(port)}` : all));
    if (/\bwa-guard simulate\b/.test(command)) {
      ports.set(/--port (\d+)/.exec(command)?.[1] ?? '8090', await background(withPorts, cwd, env));
      continue;
    }
    const result = spawnSync('/bin/sh', ['-c', withPorts], { cwd, env, encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) failures.push(`README.md:${block.line}: "${command}" exited ${result.status}\n${result.stdout}${result.stderr}`);
  }
  for (const child of running.splice(0)) {
    child.kill('SIGTERM');
    const [code] = await once(child, 'close');
    if (code !== 0) failures.push(`README.md:${block.line}: a background command exited ${code} on SIGTERM`);
  }
  return failures;
}

/** Every file under `dir` (not following the fixtures link), relative to it. */
function created(dir: string, root = dir): string[] {
  // Walked by hand: Node 24's recursive readdir descends into symlinked directories.
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isSymbolicLink()) return [];
    const path = join(dir, e.name);
    return e.isDirectory() ? created(path, root) : [relative(root, path)];
  });
}

const blocks = shellBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));

describe('the README\'s examples run as written', () => {
  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThan(3);
  });

  it.each(blocks.map((b) => [b.line, b] as const))('the block at README.md:%i', async (_line, block) => {
    const { cwd, home, path } = workspace();
    const failures = await runBlock(block, cwd, { PATH: path, HOME: home, NO_COLOR: '1' });
    expect(failures).toEqual([]);
    // What an example leaves in a checkout must not show up in `git status`.
    const made = created(cwd).filter((f) => !(f in READER_FILES) || !readFileSync(join(cwd, f)).equals(readFileSync(join(FIXTURES, READER_FILES[f]!))));
    const ignored = spawnSync('git', ['-C', ROOT, 'check-ignore', '--no-index', '--stdin'], { input: made.join('\n'), encoding: 'utf8' });
    const covered = new Set(ignored.stdout.split('\n'));
    expect(made.filter((f) => !covered.has(f)), 'paths an example creates that .gitignore does not cover').toEqual([]);
  }, 120_000);
});
