// Commission totals per creator, with the same rules as the Go example
// (examples/subscriber): the latest version of each order and of each
// (order, role) line wins; an event already applied (same id) is a
// duplicate, an older version is stale, and neither changes anything; a
// line counts for the creator (author_id) of its order's latest version.

/** Totals keeps per-creator totals from order.v1 and commission.v1 events. */
export class Totals {
  constructor() {
    this.orders = new Map(); // "platform\0order_id" → {known, id, version, authorId, lines: Map(role → line)}
    this.byCreator = new Map(); // "platform\0author\0role\0currency" → {lines, estimated_fen, settled_fen}
    this.stats = { applied: 0, superseded: 0, duplicates: 0, stale: 0, ignored: 0 };
  }

  /** apply folds one validated event in; it returns whether it changed anything. */
  apply(event) {
    if (event.type === "order.v1") return this.#order(event.id, event.data);
    if (event.type === "commission.v1") return this.#line(event.id, event.data);
    this.stats.ignored++;
    return false;
  }

  #state(platform, orderId) {
    const k = `${platform}\0${orderId}`;
    let s = this.orders.get(k);
    if (!s) {
      s = { platform, known: false, id: "", version: 0, authorId: "", lines: new Map() };
      this.orders.set(k, s);
    }
    return s;
  }

  #newer(have, appliedId, appliedVersion, id, version) {
    if (!have) return true;
    if (id === appliedId) {
      this.stats.duplicates++;
      return false;
    }
    if (version <= appliedVersion) {
      this.stats.stale++;
      return false;
    }
    this.stats.superseded++;
    return true;
  }

  #order(id, o) {
    const s = this.#state(o.platform, o.order_id);
    if (!this.#newer(s.known, s.id, s.version, id, o.version)) return false;
    if (!s.known || s.authorId !== o.author_id) {
      for (const [role, l] of s.lines) {
        if (s.known) this.#add(s.platform, s.authorId, role, l, -1);
        this.#add(s.platform, o.author_id, role, l, +1);
      }
    }
    Object.assign(s, { known: true, id, version: o.version, authorId: o.author_id });
    this.stats.applied++;
    return true;
  }

  #line(id, c) {
    const s = this.#state(c.platform, c.order_id);
    const old = s.lines.get(c.role);
    if (old && !this.#newer(true, old.id, old.version, id, c.version)) return false;
    const l = { id, version: c.version, currency: c.currency, estimated_fen: c.estimated_fen, settled_fen: c.settled_fen };
    if (s.known) {
      if (old) this.#add(s.platform, s.authorId, c.role, old, -1);
      this.#add(s.platform, s.authorId, c.role, l, +1);
    }
    s.lines.set(c.role, l);
    this.stats.applied++;
    return true;
  }

  #add(platform, authorId, role, l, sign) {
    const k = [platform, authorId, role, l.currency].join("\0");
    const a = this.byCreator.get(k) ?? { lines: 0, estimated_fen: 0, settled_fen: 0 };
    a.lines += sign;
    a.estimated_fen += sign * l.estimated_fen;
    a.settled_fen += sign * l.settled_fen;
    if (a.lines === 0 && a.estimated_fen === 0 && a.settled_fen === 0) this.byCreator.delete(k);
    else this.byCreator.set(k, a);
  }

  /** unattributed counts the lines whose order has not arrived yet. */
  unattributed() {
    let n = 0;
    for (const s of this.orders.values()) if (!s.known) n += s.lines.size;
    return n;
  }

  /** rows returns the totals sorted by platform, author, role, currency. */
  rows() {
    return [...this.byCreator.entries()]
      .map(([k, a]) => {
        const [platform, author_id, role, currency] = k.split("\0");
        return { platform, author_id, role, currency, ...a };
      })
      .sort((x, y) => (x.platform + "\0" + x.author_id + "\0" + x.role + "\0" + x.currency < y.platform + "\0" + y.author_id + "\0" + y.role + "\0" + y.currency ? -1 : 1));
  }
}
