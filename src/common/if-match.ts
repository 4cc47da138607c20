import { PreconditionFailedException } from '@nestjs/common';

/** The strong ETag of a record at a version. */
export function etagFor(version: number): string {
  return `"${version}"`;
}

/**
 * The record versions an If-Match header accepts: undefined when the header is absent (no
 * precondition) or `*`; an empty list when none of its tags can match (weak tags never do).
 */
export function versionsFromIfMatch(header: string | undefined): number[] | undefined {
  if (header === undefined || header.trim() === '*') {
    return undefined;
  }
  // Strong comparison is octet by octet: "03" is not the tag of version 3.
  return header
    .split(',')
    .map((tag) => /^"(0|[1-9]\d{0,14})"$/.exec(tag.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]));
}

/** Throws 412 unless the current version is one the If-Match header names. */
export function assertIfMatch(expected: number[] | undefined, current: number): void {
  if (expected !== undefined && !expected.includes(current)) {
    throw new PreconditionFailedException('The record has changed: If-Match does not match');
  }
}
