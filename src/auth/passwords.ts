import argon2 from 'argon2';

/** argon2id at the OWASP minimum: 19 MiB of memory, 2 passes, 1 lane. */
const OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19 * 1024,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies a password; with no hash (unknown user, deactivated account) it verifies against
 * a throwaway hash so that the answer takes as long either way.
 */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  dummyHash ??= hashPassword('not a password: this hash only keeps timing even');
  try {
    const matches = await argon2.verify(hash ?? (await dummyHash), password);
    return hash !== null && matches;
  } catch {
    return false;
  }
}
