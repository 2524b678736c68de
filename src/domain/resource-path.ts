import { KbsError } from './errors.js';

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

export interface ResourcePath {
  readonly repository: string;
  readonly type: string;
  readonly tag: string;
  /** `repository/type/tag` */
  readonly path: string;
}

export function isValidSegment(segment: string): boolean {
  return SEGMENT.test(segment) && !segment.includes('..');
}

/** Parses `repository/type/tag`; any other shape, or a segment outside PROTOCOL.md section 0, is 400. */
export function parseResourcePath(text: string): ResourcePath {
  const segments = text.split('/');
  if (segments.length !== 3 || !segments.every(isValidSegment)) {
    throw new KbsError('bad-request', 'resource path must be repository/type/tag, each segment matching [A-Za-z0-9_-][A-Za-z0-9_.-]{0,127} without ".."');
  }
  const [repository, type, tag] = segments as [string, string, string];
  return { repository, type, tag, path: `${repository}/${type}/${tag}` };
}
