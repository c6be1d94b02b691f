import { describe, expect, it } from 'vitest';
import { listedCodes } from '../src/meta/codes.js';
import { GUIDE_CODES } from '../src/meta/guide.js';
import { runCli } from './helpers.js';

describe('explain', () => {
  it('says what 131026 is, that it is never retried, the strike and blacklist, and that it costs nothing', async () => {
    const r = await runCli(['explain', '131026']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('131026 Message undeliverable');
    for (const cause of ['not on WhatsApp', 'old WhatsApp version', 'deactivated', 'wrong country code']) expect(r.stdout).toContain(cause);
    expect(r.stdout).toMatch(/Retried:\s+never/);
    expect(r.stdout).toContain('a strike against the number');
    expect(r.stdout).toContain('blacklisted');
    expect(r.stdout).toContain('no charge');
  });

  it('explains every code of the table, and the codes added since, as JSON', async () => {
    for (const code of new Set([...listedCodes(), ...GUIDE_CODES, 132015, 133010])) {
      const r = await runCli(['explain', String(code), '--json']);
      expect(r.code, String(code)).toBe(0);
      const e = JSON.parse(r.stdout);
      expect(e).toMatchObject({ code });
      for (const field of ['title', 'means', 'todo', 'retried', 'wa_guard_does']) expect(e[field], `${code} ${field}`).toMatch(/\w/);
    }
  });

  it('refuses an unknown or non-numeric code with one line and exit 2', async () => {
    for (const code of ['999999', 'abc', '-5', '131026x']) {
      const r = await runCli(['explain', code]);
      expect(r.code, code).toBe(2);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^wa-guard: explain: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
