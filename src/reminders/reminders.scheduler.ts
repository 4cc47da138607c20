import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { RemindersService } from './reminders.service.js';

/**
 * Runs the reminder pass hourly, and once at start to catch up on passes missed while the
 * service was down. It only triggers: the ledger makes any number of passes safe.
 */
@Injectable()
export class RemindersScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(RemindersScheduler.name);

  constructor(
    private readonly reminders: RemindersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    setImmediate(() => void this.pass());
  }

  @Cron(CronExpression.EVERY_HOUR)
  async pass(): Promise<void> {
    if (!this.config.reminderSchedule) {
      return;
    }
    try {
      const { data, hidden, truncated = 0 } = await this.reminders.run(new Date(), 0);
      this.logger.log(`Reminder pass: ${data.length + hidden + truncated} delivered`);
    } catch (error) {
      this.logger.error(`Reminder pass failed: ${(error as Error).stack ?? String(error)}`);
    }
  }
}
