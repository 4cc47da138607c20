export const VISIBILITIES = ['joint', 'IN', 'US'] as const;
