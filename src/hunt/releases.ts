/**
 * The releases a hunt or a bisection walks: from `--releases FILE`, `--releases 12.4,13.0,...` or the
 * mirror's listing, in the order they were made (oldest first), each with the BE it lives in.
 */
import { type Branch, parseRelease, type Release } from '../install/release.js';

/** Lines of a releases file: one release a line (`14.1`, `14.1-RELEASE`, `15.0-CURRENT`); `#` starts a comment. */
export function parseReleaseList(text: string, branch: Branch, where: string): Release[] {
  const releases: Release[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    for (const token of line.replace(/#.*/, '').split(/[\s,]+/)) {
      if (token === '') continue;
      try {
        releases.push(parseRelease(token, branch));
      } catch (err) {
        throw new Error(`${where}${lines.length > 1 ? `:${i + 1}` : ''}: ${(err as Error).message}`);
      }
    }
  }
  const unique = [...new Map(releases.map((r) => [r.name, r])).values()];
  if (unique.length === 0) throw new Error(`${where}: no releases`);
  return chronological(unique);
}

/** ALPHA, BETA and RC builds come before their RELEASE; CURRENT and STABLE snapshots after it. */
const stage = (suffix: string): number => {
  const rank = [/^ALPHA/, /^BETA/, /^RC/, /^PRERELEASE$/, /^RELEASE/, /^STABLE$/, /^CURRENT$/].findIndex((r) => r.test(suffix));
  return rank < 0 ? 4 : rank;
};

/** Oldest first: by major, minor, then stage (14.2-BETA1, 14.2-RC1, 14.2-RELEASE), then the build's number. */
export function chronological(releases: readonly Release[]): Release[] {
  const suffix = (r: Release) => r.name.slice(r.name.indexOf('-') + 1);
  return [...releases].sort(
    (a, b) => a.major - b.major || a.minor - b.minor || stage(suffix(a)) - stage(suffix(b)) || suffix(a).localeCompare(suffix(b), 'en', { numeric: true }),
  );
}

/** The BE a release is hunted in: `r` and the release without -RELEASE (r14.1, r15.0-CURRENT, r14.2-RC1). */
export function environmentFor(release: Release): string {
  return `r${release.name.replace(/-RELEASE$/, '')}`;
}
