/** An action item as the API answers it (SPEC 5), for tests that read answers. */
export interface ActionItemJson {
  id: string;
  code: string;
  title: string;
  description: string;
  status: string;
  ownerId: string;
  ownerDelegation: string;
  dueDate: string;
  meetingId: string | null;
  agendaItemId: string | null;
  policyItemId: string | null;
  visibility: string;
  completedAt: string | null;
  overdue: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
}
