import type { ReminderKind } from './reminder.entity.js';

export interface SubjectFacts {
  code?: string;
  title: string;
  dueDate?: string;
  number?: number;
  startsOn?: string;
  endsOn?: string;
}

/** The words of a reminder, the same in the app and in e-mail. */
export function reminderMessage(
  kind: ReminderKind,
  s: SubjectFacts,
): { title: string; body: string } {
  switch (kind) {
    case 'action_due_soon':
      return {
        title: `${s.code} is due on ${s.dueDate}`,
        body: `Your action item ${s.code} "${s.title}" is due on ${s.dueDate}.`,
      };
    case 'action_overdue':
      return {
        title: `${s.code} is overdue`,
        body: `Your action item ${s.code} "${s.title}" was due on ${s.dueDate} and is not closed.`,
      };
    case 'action_escalated':
      return {
        title: `${s.code} is two weeks overdue`,
        body: `Action item ${s.code} "${s.title}", owned by a member of your delegation, was due on ${s.dueDate} and is still open.`,
      };
    case 'meeting_upcoming':
      return {
        title: `Meeting ${s.number} starts on ${s.startsOn}`,
        body: `"${s.title}" (meeting ${s.number}) runs from ${s.startsOn} to ${s.endsOn}.`,
      };
    case 'minutes_awaiting_approval':
      return {
        title: `Minutes of meeting ${s.number} await your approval`,
        body: `The minutes of "${s.title}" (meeting ${s.number}) are circulated and your side has not approved them yet.`,
      };
    case 'minutes_missing':
      return {
        title: `Meeting ${s.number} has no minutes`,
        body: `"${s.title}" (meeting ${s.number}) ended on ${s.endsOn} and has no minutes yet.`,
      };
  }
}
