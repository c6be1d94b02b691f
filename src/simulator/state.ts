// The simulator's state, handed explicitly to each endpoint.
import { Arrivals, emptyStats, tally, type SimulatorStats } from './stats.js';
import { WebhooksOut } from './webhooks-out.js';
import { World, seededRandom, type WorldConfig } from './world.js';

/** Requests within the current second, for a per-second limit. */
export class SecondCounter {
  private second = -1;
  private count = 0;

  /** Counts one request at `now` (ms); returns how many this second has seen, this one included. */
  add(now: number): number {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.count = 0;
    }
    return ++this.count;
  }
}

/** Everything POST /_sim/reset starts afresh: the users, the fault sequence, the counters and the rate limits. */
export class Session {
  readonly world: World;
  /** The seeded sequence every fault and random error draws from, in request order: a seed replays a run. */
  readonly random: () => number;
  readonly stats: SimulatorStats;
  readonly arrivals = new Arrivals();
  readonly contactsThisSecond = new SecondCounter();
  /** Phone number id -> its messages this second. */
  readonly sendsThisSecond = new Map<string, SecondCounter>();

  constructor(config: WorldConfig, now: number) {
    this.world = new World(config);
    this.random = seededRandom(config.seed);
    this.stats = emptyStats(now);
  }

  /** The stats with the figures derived from the world and the arrival times. */
  snapshot(): SimulatorStats {
    // Shallow: the counter tables are shared, so /_sim/stats's own response shows in its answer.
    return {
      ...this.stats,
      sent_per_recipient: Object.fromEntries(this.world.sentCount),
      max_per_recipient: Math.max(0, ...this.world.sentCount.values()),
      peak_per_second: this.arrivals.peaks(),
    };
  }
}

export class SimulatorState {
  /** The bearer token requests must carry; POST /_sim/token changes it, and a reset keeps it. */
  token: string;
  session: Session;
  readonly webhooks: WebhooksOut;

  constructor(readonly config: WorldConfig, readonly now: () => number) {
    this.token = config.token;
    this.session = new Session(config, now());
    // A failed POST counts in the session current when it fails.
    this.webhooks = new WebhooksOut(config, now, () => tally(this.session.stats.faults, 'webhook_post_failed'));
  }

  reset(): void {
    this.session = new Session(this.config, this.now());
  }
}
