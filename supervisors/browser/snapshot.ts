// What a model reads of a page: its visible text and interactive elements in document order, one
// line each, every interactive element with a ref ("e12") that later actions name. Refs are kept
// on the elements themselves (a data attribute), so a second snapshot of the same document gives
// the same element the same ref. Bounded by maxChars; `truncated` says when lines were left out.
import type { Page } from 'puppeteer-core';

/** The attribute a ref lives in; actions find an element by it. */
export const REF_ATTRIBUTE = 'data-aurora-ref';

export interface Snapshot {
  readonly url: string;
  readonly title: string;
  readonly text: string;
  readonly elements: number;
  readonly truncated: boolean;
}

export function refSelector(ref: string): string {
  return `[${REF_ATTRIBUTE}="${ref}"]`;
}

// Runs in the page, so it is plain JavaScript kept as text: Aurora compiles without the DOM types.
const SNAPSHOT_SCRIPT = String.raw`(attr, max) => {
  const INTERACTIVE = 'a[href],button,input:not([type=hidden]),select,textarea,[role=button],[role=link],[role=checkbox],[role=tab],[role=menuitem],[contenteditable=""],[contenteditable=true],[onclick]';
  const root = document.documentElement;
  let seq = Number(root.getAttribute(attr + '-seq') || '0');
  const lines = [];
  let size = 0;
  let truncated = false;
  let elements = 0;
  const clip = (s, n) => {
    const t = String(s).replace(/\s+/g, ' ').trim();
    return t.length > n ? t.slice(0, n) + '…' : t;
  };
  const push = (line) => {
    if (size + line.length + 1 > max) { truncated = true; return; }
    lines.push(line);
    size += line.length + 1;
  };
  const visible = (el) => {
    if (el.getClientRects().length === 0) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none';
  };
  const describe = (el, ref) => {
    const tag = el.tagName.toLowerCase();
    const role = el.getAttribute('role') || (tag === 'a' ? 'link' : tag === 'select' ? 'combobox' : tag === 'textarea' ? 'textbox' : tag === 'input' ? 'input[' + el.type + ']' : tag);
    const label = el.labels && el.labels[0] ? el.labels[0].innerText : '';
    const name = clip(el.getAttribute('aria-label') || label || el.innerText || '', 120);
    const extra = [];
    if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
      if (el.name) extra.push('name=' + el.name);
      if (el.placeholder) extra.push('placeholder="' + clip(el.placeholder, 60) + '"');
      if (el.type === 'password') extra.push(el.value ? 'value=(set)' : 'value=""');
      else extra.push('value="' + clip(el.value, 80) + '"');
    }
    if (el instanceof HTMLSelectElement) {
      extra.push('options=' + [...el.options].slice(0, 20).map((o) => o.value).join('|'), 'value="' + el.value + '"');
    }
    if (el instanceof HTMLAnchorElement) extra.push('href=' + clip(el.getAttribute('href') || '', 120));
    return '[' + ref + '] ' + role + (name ? ' "' + name + '"' : '') + (extra.length ? ' ' + extra.join(' ') : '');
  };
  const walker = document.createTreeWalker(document.body || root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  let skipInside = null;
  for (let node = walker.nextNode(); node !== null && !truncated; node = walker.nextNode()) {
    if (skipInside !== null && skipInside.contains(node)) continue;
    skipInside = null;
    if (node.nodeType === Node.ELEMENT_NODE) {
      const tag = node.tagName;
      if (tag === 'SCRIPT' || tag === 'STYLE' || tag === 'NOSCRIPT' || tag === 'TEMPLATE') { skipInside = node; continue; }
      if (node.matches(INTERACTIVE) && visible(node)) {
        let ref = node.getAttribute(attr);
        if (ref === null) { ref = 'e' + (++seq); node.setAttribute(attr, ref); }
        elements++;
        push(describe(node, ref));
        // Its text is its name, already on its line.
        skipInside = node;
      }
      continue;
    }
    const parent = node.parentElement;
    const text = clip(node.textContent || '', 300);
    if (text === '' || parent === null || !visible(parent)) continue;
    push((/^H[1-6]$/.test(parent.tagName) ? 'heading "' : 'text "') + text + '"');
  }
  root.setAttribute(attr + '-seq', String(seq));
  return { text: lines.join('\n'), elements, truncated };
}`;

export async function takeSnapshot(page: Page, maxChars: number): Promise<Snapshot> {
  const taken = (await page.evaluate(`(${SNAPSHOT_SCRIPT})(${JSON.stringify(REF_ATTRIBUTE)}, ${Math.floor(maxChars)})`)) as {
    text: string;
    elements: number;
    truncated: boolean;
  };
  return { url: page.url(), title: await page.title(), ...taken };
}
