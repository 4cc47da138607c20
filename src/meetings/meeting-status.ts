export const MEETING_STATUSES = ['planned', 'in_session', 'held', 'cancelled'] as const;
export type MeetingStatus = (typeof MEETING_STATUSES)[number];

export const MEETING_KINDS = ['plenary', 'intersessional', 'virtual'] as const;
export type MeetingKind = (typeof MEETING_KINDS)[number];

/**
 * The arrows a PATCH may follow: planned -> in_session -> held, planned|in_session ->
 * cancelled. (Logging outcomes also takes a planned meeting straight to held.)
 */
export function canMoveMeeting(from: MeetingStatus, to: MeetingStatus): boolean {
  if (from === to) {
    return true;
  }
  switch (to) {
    case 'planned':
      return false;
    case 'in_session':
      return from === 'planned';
    case 'held':
      return from === 'in_session';
    case 'cancelled':
      return from === 'planned' || from === 'in_session';
  }
}

/** Outcomes may be logged for a meeting that is not cancelled. */
export function acceptsOutcomes(status: MeetingStatus): boolean {
  return status !== 'cancelled';
}
