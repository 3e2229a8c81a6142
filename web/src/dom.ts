// Tiny DOM helpers. Text always goes in through textContent: nothing from the server is ever
// parsed as HTML.

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === "class") node.className = String(v);
    else if (k === "text") node.textContent = String(v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** The element with this data-testid inside root (the page uses test ids as its stable hooks). */
export function byTestId<T extends HTMLElement = HTMLElement>(id: string, root: ParentNode = document): T {
  const node = root.querySelector<T>(`[data-testid="${CSS.escape(id)}"]`);
  if (!node) throw new Error(`missing element ${id}`);
  return node;
}

export function setText(id: string, text: string, root: ParentNode = document): void {
  const node = byTestId(id, root);
  if (node.textContent !== text) node.textContent = text;
}

export function show(node: HTMLElement, visible: boolean): void {
  node.hidden = !visible;
}

/** Runs a promise started by an event handler: a rejection goes to the console, never unhandled. */
export function detached(what: string, work: Promise<unknown>): void {
  work.catch((err: unknown) => console.error(`${what} failed:`, err));
}
