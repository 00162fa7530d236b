// Subject syntax and subscription matching with NATS semantics, for the in-process bus.
//
// Subscriptions live in a token trie (like the NATS server's sublist), so a lookup costs the
// subject's depth rather than the number of subscriptions; results are cached per subject and
// the cache is dropped whenever the subscriptions change.
import { AuroraError } from '../errors.js';

export interface Subscriber {
  readonly queue: string | undefined;
}

/** One queue group of a match: every message goes to exactly one member. */
export interface QueueGroup<T> {
  readonly members: T[];
  /** Round-robin cursor; lives in the cached match so it costs nothing per message. */
  next: number;
}

export interface SubjectMatch<T> {
  readonly plain: readonly T[];
  readonly groups: readonly QueueGroup<T>[];
}

const EMPTY_MATCH: SubjectMatch<never> = Object.freeze({ plain: Object.freeze([]), groups: Object.freeze([]) });

/**
 * Throws AuroraError `invalid_request` unless `subject` is a well-formed subject: non-empty
 * tokens separated by '.', no whitespace; with `wildcards`, '*' and a final '>' as whole tokens.
 */
export function assertSubject(subject: string, wildcards: boolean): void {
  const n = subject.length;
  let tokenStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 46 /* '.' closes the last token */ : subject.charCodeAt(i);
    if (c === 46) {
      const len = i - tokenStart;
      if (len === 0) throw invalidSubject(subject, 'empty token');
      const first = subject.charCodeAt(tokenStart);
      if (len === 1 && (first === 42 /* * */ || first === 62 /* > */)) {
        if (!wildcards) throw invalidSubject(subject, 'wildcards are only valid in subscriptions');
        if (first === 62 && i !== n) throw invalidSubject(subject, "'>' must be the last token");
      }
      tokenStart = i + 1;
    } else if (c === 32 || c === 9 || c === 10 || c === 13) {
      throw invalidSubject(subject, 'whitespace');
    } else if ((c === 42 || c === 62) && !(i === tokenStart && (i + 1 === n || subject.charCodeAt(i + 1) === 46))) {
      throw invalidSubject(subject, 'wildcard inside a token');
    }
  }
}

/** A queue group name is one token without wildcards. */
export function assertQueueName(queue: string): void {
  if (queue.length === 0 || /[\s.*>]/.test(queue)) {
    throw new AuroraError('invalid_request', `invalid queue group name "${queue}"`);
  }
}

function invalidSubject(subject: string, why: string): AuroraError {
  return new AuroraError('invalid_request', `invalid subject "${subject}": ${why}`);
}

class TrieNode<T> {
  readonly literal = new Map<string, TrieNode<T>>();
  star: TrieNode<T> | undefined;
  /** Subscriptions whose pattern ends here. */
  readonly exact = new Set<T>();
  /** Subscriptions whose pattern is this node's path followed by '>'. */
  readonly rest = new Set<T>();

  isEmpty(): boolean {
    return this.literal.size === 0 && this.star === undefined && this.exact.size === 0 && this.rest.size === 0;
  }
}

export class SubjectIndex<T extends Subscriber> {
  private readonly root = new TrieNode<T>();
  private readonly cache = new Map<string, SubjectMatch<T>>();
  private count = 0;

  constructor(private readonly maxCachedSubjects = 4096) {}

  get size(): number {
    return this.count;
  }

  /** `pattern` must have passed assertSubject(pattern, true). */
  add(pattern: string, sub: T): void {
    const tokens = pattern.split('.');
    let node = this.root;
    const last = tokens.length - 1;
    for (let i = 0; i <= last; i++) {
      const token = tokens[i]!;
      if (i === last && token === '>') {
        node.rest.add(sub);
        this.changed(1);
        return;
      }
      let child = token === '*' ? node.star : node.literal.get(token);
      if (child === undefined) {
        child = new TrieNode<T>();
        if (token === '*') node.star = child;
        else node.literal.set(token, child);
      }
      node = child;
    }
    node.exact.add(sub);
    this.changed(1);
  }

  remove(pattern: string, sub: T): void {
    const tokens = pattern.split('.');
    const path: TrieNode<T>[] = [this.root];
    let node = this.root;
    const last = tokens.length - 1;
    let removed = false;
    for (let i = 0; i <= last; i++) {
      const token = tokens[i]!;
      if (i === last && token === '>') {
        removed = node.rest.delete(sub);
        break;
      }
      const child = token === '*' ? node.star : node.literal.get(token);
      if (child === undefined) return;
      node = child;
      path.push(node);
      if (i === last) removed = node.exact.delete(sub);
    }
    if (!removed) return;
    // Prune emptied branches so churn of short-lived subscriptions does not grow the trie.
    for (let i = path.length - 1; i > 0; i--) {
      const child = path[i]!;
      if (!child.isEmpty()) break;
      const parent = path[i - 1]!;
      const token = tokens[i - 1]!;
      if (token === '*') parent.star = undefined;
      else parent.literal.delete(token);
    }
    this.changed(-1);
  }

  clear(): void {
    this.root.literal.clear();
    this.root.star = undefined;
    this.root.exact.clear();
    this.root.rest.clear();
    this.count = 0;
    this.cache.clear();
  }

  /**
   * Everything subscribed to `subject`; throws like assertSubject on a malformed one. `cache: false`
   * is for one-off subjects (reply inboxes) that would only evict useful entries.
   */
  match(subject: string, cache = true): SubjectMatch<T> {
    const hit = this.cache.get(subject);
    if (hit !== undefined) return hit;
    // Validated on a miss only: a cached subject was checked when it entered the cache.
    // Unchecked, "a..b" would match "a.*.b" through its empty token.
    assertSubject(subject, false);
    if (this.count === 0) return EMPTY_MATCH;
    const found: T[] = [];
    collect(this.root, subject.split('.'), 0, found);
    const result = group(found);
    if (cache) {
      if (this.cache.size >= this.maxCachedSubjects) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(subject, result);
    }
    return result;
  }

  private changed(delta: number): void {
    this.count += delta;
    this.cache.clear();
  }
}

function collect<T>(node: TrieNode<T>, tokens: readonly string[], i: number, out: T[]): void {
  if (i === tokens.length) {
    for (const sub of node.exact) out.push(sub);
    return;
  }
  // '>' needs at least one more token, which is the case here.
  for (const sub of node.rest) out.push(sub);
  const literal = node.literal.get(tokens[i]!);
  if (literal !== undefined) collect(literal, tokens, i + 1, out);
  if (node.star !== undefined) collect(node.star, tokens, i + 1, out);
}

// Like the NATS server, queue members are grouped by queue name across every matching pattern:
// a message reaches one member per queue name, however many patterns of that group match.
function group<T extends Subscriber>(found: readonly T[]): SubjectMatch<T> {
  if (found.length === 0) return EMPTY_MATCH;
  const plain: T[] = [];
  let groups: Map<string, QueueGroup<T>> | undefined;
  for (const sub of found) {
    if (sub.queue === undefined) {
      plain.push(sub);
      continue;
    }
    groups ??= new Map();
    const g = groups.get(sub.queue);
    if (g === undefined) groups.set(sub.queue, { members: [sub], next: 0 });
    else g.members.push(sub);
  }
  return { plain, groups: groups === undefined ? [] : [...groups.values()] };
}
