import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hashPassword } from '../auth/passwords.js';
import { nowIso } from '../common/clock.js';
import type { Role } from '../common/permissions.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { UnitOfWork } from '../database/unit-of-work.js';
import {
  DEFAULT_TIMEZONE,
  Delegation,
  type DelegationCode,
} from '../delegations/delegation.entity.js';
import { User } from '../users/user.entity.js';
import { WorkingGroup } from '../working-group/working-group.entity.js';

const SEEDS = new URL('../../seeds/', import.meta.url);

function readSeed<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(file, SEEDS), 'utf8')) as T;
}

interface SeedUser {
  username: string;
  displayName: string;
  role: Role;
  delegation: DelegationCode | null;
}

/**
 * Loads the founding record from seeds/: whatever is missing is added, nothing existing is
 * changed, so loading twice changes nothing. Seeded accounts get JWG_SEED_PASSWORD, or a
 * random password each, printed once.
 */
@Injectable()
export class Seeder implements OnApplicationBootstrap {
  private readonly logger = new Logger(Seeder.name);

  constructor(
    private readonly uow: UnitOfWork,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'seedPassword'>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.seed();
  }

  async seed(): Promise<{ created: string[] }> {
    const delegations = readSeed<Delegation[]>('delegations.json');
    const group =
      readSeed<Pick<WorkingGroup, 'name' | 'mandate' | 'cadenceMonths'>>('working-group.json');
    const seedUsers = readSeed<SeedUser[]>('users.json');

    const missing = await this.uow.read(async (em) => {
      const existing = new Set(
        (await em.find(User, { select: { username: true } })).map((u) => u.username),
      );
      return seedUsers.filter((u) => !existing.has(u.username));
    });
    const passwords = new Map(
      missing.map((u) => [
        u.username,
        this.config.seedPassword ?? randomBytes(12).toString('base64url'),
      ]),
    );
    const hashes = new Map(
      await Promise.all(
        missing.map(
          async (u) => [u.username, await hashPassword(passwords.get(u.username)!)] as const,
        ),
      ),
    );

    const created = await this.uow.transaction(async (em) => {
      const now = nowIso();
      for (const delegation of delegations) {
        if (!(await em.existsBy(Delegation, { code: delegation.code }))) {
          await em.insert(Delegation, delegation);
        }
      }
      if ((await em.count(WorkingGroup)) === 0) {
        await em.insert(WorkingGroup, {
          id: randomUUID(),
          ...group,
          version: 1,
          createdAt: now,
          updatedAt: now,
        });
      }
      const added: string[] = [];
      for (const seed of missing) {
        if (await em.existsBy(User, { username: seed.username })) {
          continue;
        }
        await em.insert(User, {
          id: randomUUID(),
          ...seed,
          email: null,
          timezone: seed.delegation ? DEFAULT_TIMEZONE[seed.delegation] : 'UTC',
          active: true,
          passwordHash: hashes.get(seed.username)!,
          tokenVersion: 0,
          version: 1,
          createdAt: now,
          updatedAt: now,
        });
        added.push(seed.username);
      }
      return added;
    });

    if (created.length > 0) {
      this.logger.log(`Seeded accounts: ${created.join(', ')}`);
      if (!this.config.seedPassword) {
        // Shown once and stored nowhere in clear text.
        const lines = created.map(
          (username) => `  ${username.padEnd(12)} ${passwords.get(username)}`,
        );
        process.stdout.write(
          `\nGenerated passwords for the seeded accounts (shown once, store them now):\n${lines.join('\n')}\n\n`,
        );
      }
    }
    return { created };
  }
}
