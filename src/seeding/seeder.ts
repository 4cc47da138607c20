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
import { findWorkingGroup } from '../working-group/working-group.service.js';
import type { EntityManager } from 'typeorm';
import { ActionItem } from '../action-items/action-item.entity.js';
import { AgendaItem, type AgendaStatus } from '../agenda/agenda-item.entity.js';
import { nextCode } from '../common/codes.js';
import { addMonthsClamped } from '../common/dates.js';
import type { MeetingKind, MeetingStatus } from '../meetings/meeting-status.js';
import { Meeting, MeetingAttendee, MeetingDecision } from '../meetings/meeting.entity.js';
import type { PolicyItemStatus } from '../policy-items/policy-item-status.js';
import { PolicyItem } from '../policy-items/policy-item.entity.js';

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
      if ((await em.count(Meeting)) === 0) {
        await this.seedWorkflow(em, now);
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

  /**
   * Meeting 1 with its agenda, decisions and attendance, the policy-alignment items and the
   * action items that follow from it; only into a database without meetings, all at once.
   */
  private async seedWorkflow(em: EntityManager, now: string): Promise<void> {
    const meetings = readSeed<SeedMeeting[]>('meetings.json');
    const policySeeds = readSeed<SeedPolicyItem[]>('policy-items.json');
    const actionSeeds = readSeed<SeedActionItem[]>('action-items.json');
    const users = new Map((await em.find(User)).map((u) => [u.username, u]));
    const { cadenceMonths } = await findWorkingGroup(em);
    // One millisecond apart, so that lists ordered by creation show the seeds in file order.
    let tick = Date.parse(now);
    const stamp = () => {
      const at = new Date(tick++).toISOString();
      return { version: 1, createdAt: at, updatedAt: at };
    };

    const policyIds = new Map<string, string>();
    for (const seed of policySeeds) {
      const id = randomUUID();
      policyIds.set(seed.key, id);
      await em.insert(PolicyItem, {
        id,
        code: await nextCode(em, 'PA', 'joint'),
        title: seed.title,
        description: seed.description,
        isaReference: seed.isaReference,
        status: seed.status,
        leadIn: null,
        leadUs: null,
        targetDate: null,
        concurInUserId: null,
        concurInAt: null,
        concurUsUserId: null,
        concurUsAt: null,
        visibility: 'joint',
        ...stamp(),
      });
    }

    const meetingIds = new Map<number, Meeting>();
    const agendaIds = new Map<string, string>();
    for (const seed of meetings) {
      const { attendees, agenda, decisions, ...fields } = seed;
      const meeting: Meeting = {
        id: randomUUID(),
        ...fields,
        minutesStatus: 'none',
        minutesText: null,
        minutesCirculatedAt: null,
        ...stamp(),
      };
      meetingIds.set(meeting.number, meeting);
      await em.insert(Meeting, meeting);
      for (const username of attendees) {
        await em.insert(MeetingAttendee, {
          meetingId: meeting.id,
          userId: users.get(username)!.id,
        });
      }
      for (const [i, text] of decisions.entries()) {
        await em.insert(MeetingDecision, {
          meetingId: meeting.id,
          seq: i + 1,
          text,
          createdAt: now,
        });
      }
      for (const [i, item] of agenda.entries()) {
        const id = randomUUID();
        agendaIds.set(item.key, id);
        await em.insert(AgendaItem, {
          id,
          meetingId: meeting.id,
          position: i + 1,
          title: item.title,
          description: item.description,
          leadDelegation: null,
          policyItemId: policyIds.get(item.policyItem) ?? null,
          status: item.status,
          outcome: item.outcome,
          carriedFromId: null,
          visibility: 'joint',
          ...stamp(),
        });
      }
    }

    for (const seed of actionSeeds) {
      const owner = users.get(seed.owner)!;
      const meeting = meetingIds.get(seed.meeting)!;
      await em.insert(ActionItem, {
        id: randomUUID(),
        code: await nextCode(em, 'AI', 'joint'),
        title: seed.title,
        description: `Follows from meeting ${meeting.number} (${meeting.title}). The due date is the next meeting by the cadence setting, not a date from the sources.`,
        status: 'open',
        ownerId: owner.id,
        ownerDelegation: owner.delegation!,
        dueDate: addMonthsClamped(meeting.startsOn, cadenceMonths),
        meetingId: meeting.id,
        agendaItemId: agendaIds.get(seed.agenda) ?? null,
        policyItemId: policyIds.get(seed.policyItem) ?? null,
        visibility: 'joint',
        completedAt: null,
        ...stamp(),
      });
    }
  }
}

interface SeedMeeting {
  number: number;
  title: string;
  kind: MeetingKind;
  startsOn: string;
  endsOn: string;
  location: string;
  hostDelegation: DelegationCode;
  status: MeetingStatus;
  attendees: string[];
  agenda: {
    key: string;
    title: string;
    description: string;
    status: AgendaStatus;
    outcome: string;
    policyItem: string;
  }[];
  decisions: string[];
}

interface SeedPolicyItem {
  key: string;
  title: string;
  description: string;
  isaReference: string;
  status: PolicyItemStatus;
}

interface SeedActionItem {
  title: string;
  owner: string;
  meeting: number;
  agenda: string;
  policyItem: string;
}
