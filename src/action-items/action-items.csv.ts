import { stringify } from 'csv-stringify/sync';
import { Readable } from 'node:stream';
import type { ActionItemDto } from './action-item.dto.js';

const COLUMNS: (keyof ActionItemDto)[] = [
  'code',
  'title',
  'status',
  'ownerId',
  'ownerDelegation',
  'dueDate',
  'overdue',
  'completedAt',
  'visibility',
  'meetingId',
  'agendaItemId',
  'policyItemId',
  'description',
  'id',
  'updatedAt',
];

/**
 * Streams batches of items as CSV. Cells that a spreadsheet would run as a formula
 * (=, +, -, @ first) are prefixed with an apostrophe (OWASP CSV injection).
 */
export function toCsv(batches: AsyncIterable<ActionItemDto[]>): Readable {
  return Readable.from(
    (async function* () {
      yield stringify([COLUMNS]);
      for await (const batch of batches) {
        yield stringify(batch.map((item) => COLUMNS.map((column) => cell(item[column]))));
      }
    })(),
  );
}

function cell(value: string | number | boolean | null): string {
  if (value === null) {
    return '';
  }
  const text = String(value);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}
