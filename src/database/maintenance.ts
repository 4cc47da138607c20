import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sql } from './sql.js';
import { UnitOfWork } from './unit-of-work.js';

export const OPTIMIZE_EVERY_MS = 60 * 60 * 1000;

/**
 * SQLite's advice for a long-lived connection: analyze every table whose statistics are
 * missing or stale (0x10000: all tables, not only those this connection used; 0x2: ANALYZE
 * where it helps). Without the 0x10 bit the analysis is complete: a limited one misjudged
 * how many items share a status and sent the filtered list back to a 250 ms plan. A no-op
 * (about a millisecond) while the tables keep their size within 25x.
 */
export const OPTIMIZE = 'PRAGMA optimize=0x10002';

/**
 * Keeps SQLite's planner statistics current: once after start (a seeded or restored file has
 * none) and hourly. PostgreSQL's autovacuum does the same there.
 */
@Injectable()
export class DatabaseMaintenance implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DatabaseMaintenance.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    if (this.dataSource.options.type === 'postgres') {
      return;
    }
    // After start-up, not during it: on a large file that was never analyzed this takes a while.
    setImmediate(() => this.optimizeInTurn());
    this.timer = setInterval(() => this.optimizeInTurn(), OPTIMIZE_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Runs the optimization in the unit-of-work queue; failures are logged, never thrown. */
  optimize(): Promise<void> {
    return this.uow.transaction(async (em) => {
      await sql(em, OPTIMIZE);
    });
  }

  private optimizeInTurn(): void {
    if (this.stopped) {
      return;
    }
    this.running = this.running.then(() =>
      this.optimize().catch((error: unknown) => {
        this.logger.error(`SQLite optimize failed: ${(error as Error).stack ?? String(error)}`);
      }),
    );
  }
}
