import type { IO } from './io.js';

/** A progress bar on stderr, only for a person watching: a TTY, not CI, not --quiet. */
export class Progress {
  private bar: { update(value: number, payload?: object): void; stop(): void } | undefined;
  private started = Date.now();

  static async start(label: string, io: IO, quiet: boolean, totalBytes: number | undefined): Promise<Progress> {
    const progress = new Progress();
    if (quiet || !io.stderr.isTTY || io.env.CI) return progress;
    const { default: cliProgress } = await import('cli-progress');
    const format = (totalBytes
      ? `${label} [{bar}] {percentage}% | {rows} rows | {speed} rows/s | ETA {eta_formatted}`
      : `${label} {rows} rows | {speed} rows/s`) + '{detail}';
    const bar = new cliProgress.SingleBar({
      format,
      stream: io.stderr as NodeJS.WritableStream,
      hideCursor: true,
      clearOnComplete: true,
      fps: 5,
      barsize: 30,
    }, cliProgress.Presets.legacy);
    bar.start(totalBytes ?? 0, 0, { rows: 0, speed: 0, detail: '' });
    progress.bar = bar;
    return progress;
  }

  /** `detail`: what else a person wants to see (a send's sent, failed and messages/s). */
  update(bytes: number, rows: number, detail?: string): void {
    if (!this.bar) return;
    const seconds = Math.max(0.001, (Date.now() - this.started) / 1000);
    this.bar.update(bytes, { rows: rows.toLocaleString('en-US'), speed: Math.round(rows / seconds).toLocaleString('en-US'), detail: detail ? ` | ${detail}` : '' });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
