import { ActionItem, ActionItemUpdate } from '../action-items/action-item.entity.js';
import { AgendaItem } from '../agenda/agenda-item.entity.js';
import { LoginLockout, RefreshToken, Session } from '../auth/session.entity.js';
import { IdempotencyRecord } from '../common/idempotency-record.entity.js';
import { Delegation } from '../delegations/delegation.entity.js';
import {
  Meeting,
  MeetingAttendee,
  MeetingDecision,
  MinutesApproval,
} from '../meetings/meeting.entity.js';
import { Note } from '../notes/note.entity.js';
import { PolicyItem } from '../policy-items/policy-item.entity.js';
import { User } from '../users/user.entity.js';
import { WorkingGroup } from '../working-group/working-group.entity.js';
import { Foundation1763700000000 } from './migrations/1763700000000-foundation.js';
import { Workflow1763800000000 } from './migrations/1763800000000-workflow.js';
import { Reminders1763900000000 } from './migrations/1763900000000-reminders.js';
import { Audit1764000000000 } from './migrations/1764000000000-audit.js';
import { RateLimits1764200000000 } from './migrations/1764200000000-rate-limits.js';
import { Statistics1764300000000 } from './migrations/1764300000000-statistics.js';
import { AuditEvent, AuditHead } from '../audit/audit-event.entity.js';
import { CalendarFeed } from '../calendar/calendar-feed.entity.js';
import { Notification } from '../notifications/notification.entity.js';
import { Reminder, ReminderPass } from '../reminders/reminder.entity.js';

export const ENTITIES = [
  Delegation,
  User,
  Session,
  RefreshToken,
  LoginLockout,
  WorkingGroup,
  Meeting,
  MeetingAttendee,
  MeetingDecision,
  MinutesApproval,
  AgendaItem,
  PolicyItem,
  ActionItem,
  ActionItemUpdate,
  Note,
  IdempotencyRecord,
  Reminder,
  ReminderPass,
  Notification,
  CalendarFeed,
  AuditEvent,
  AuditHead,
];

export const MIGRATIONS = [
  Foundation1763700000000,
  Workflow1763800000000,
  Reminders1763900000000,
  Audit1764000000000,
  RateLimits1764200000000,
  Statistics1764300000000,
];
