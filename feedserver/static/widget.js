/* <feedserver-widget feed="ID" lang="de|en" items="5" mode="compact|full" theme="auto|light|dark"
   view="auto|latest" filter="category=paper" tz="Europe/Berlin">: a feed of this server in any page.
   Same markup and stylesheet as the iframe page /widgets/ID. No cookies, no storage, no framework; it talks
   only to the server it was loaded from, never with a referrer. Colours: CSS custom properties (widget.css). */
(() => {
  "use strict";
  const src = document.currentScript && document.currentScript.src;
  const BASE = new URL(".", src || location.href).href;
  // Filled in by feedserver/web/widgets/assets.py: the core's and every kind's words (and the German names
  // of zones, feedserver/display.py), and each kind's view,
  // the fields of its API data and its widget_options; the kinds' parts of this script go where PARTS stands.
  const WORDS = /*WORDS*/{}/*END*/;
  const KINDS = /*KINDS*/{}/*END*/;
  const T = WORDS.text;
  const DAYS = WORDS.days; // the weekdays' short names by language, Sunday first, from the server's catalog
  const LINK = { target: "_blank", rel: "noopener noreferrer" };
  const MAX_PAGES = 5;
  // Choice filters by the API entry fields they look at (as feedserver/filters.py); minimums below. The
  // kinds' parts add their filters' fields.
  const FIELDS = { category: (e) => [e.category], area: (e) => [e.area] };
  const MINIMUM = {};

  const fold = (s) => String(s).toLowerCase().replace(/ß/g, "ss").normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "").replace(/\s+/g, " ").trim();

  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v != null && v !== false) el.setAttribute(k, v);
    el.append(...kids.flat(9).filter((k) => k != null && k !== false));
    return el;
  }

  async function get(path) {
    const r = await fetch(BASE + path, { credentials: "omit", referrerPolicy: "no-referrer", mode: "cors" });
    if (!r.ok) throw new Error(String(r.status));
    return r;
  }
  const json = async (path) => (await get(path)).json();

  // Times as the server writes them: 'Mo., 23.11., 14:05' / 'Mon 23/11, 14:05', in the feed's zone.
  function parts(date, tz) {
    const f = new Intl.DateTimeFormat("en-GB", { timeZone: tz, year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    const p = Object.fromEntries(f.formatToParts(date).map((x) => [x.type, x.value]));
    p.wd = new Date(Date.UTC(+p.year, +p.month - 1, +p.day)).getUTCDay();
    return p;
  }
  const dayOf = (p, lang) => lang === "de"
    ? `${DAYS.de[p.wd]}., ${p.day}.${p.month}.` : `${DAYS.en[p.wd]} ${p.day}/${p.month}`;
  const day = (iso, lang) => { const [y, m, d] = iso.split("-");
    return dayOf({ year: y, month: m, day: d, wd: new Date(Date.UTC(+y, m - 1, +d)).getUTCDay() }, lang); };
  const clock = (iso, tz) => { const p = parts(new Date(iso), tz); return `${p.hour}:${p.minute}`; };
  // The zone's abbreviation as the server names it (display.zone_abbreviation): CET/CEST, in German MEZ/MESZ.
  const zone = (iso, o) => {
    const name = new Intl.DateTimeFormat("en-GB", { timeZone: o.tz, timeZoneName: "short" })
      .formatToParts(new Date(iso)).find((x) => x.type === "timeZoneName").value;
    return o.lang === "de" ? WORDS.zones[name] || name : name;
  };
  const moment = (iso, o) => iso.length === 10 ? day(iso, o.lang)
    : `${dayOf(parts(new Date(iso), o.tz), o.lang)}, ${clock(iso, o.tz)} ${zone(iso, o)}`;
  // A valid HTML time has at most three digits of a second's fraction; the API's times may carry six.
  const time = (iso, text, cls) => h("time", { datetime: iso.replace(/(\.\d{3})\d+/, "$1"), class: cls }, text);
  const number = (v, lang) => { const s = v.toFixed(1).replace(/\.0$/, ""); return lang === "de" ? s.replace(".", ",") : s; };

  function keep(entry, filters, ids) {
    if (ids && entry.item_id) return ids.has(entry.item_id); // the API filtered the items: exact semantics
    return filters.every(([name, raw]) => {
      if (MINIMUM[name]) { const v = MINIMUM[name](entry); return typeof v === "number" && v >= +raw; }
      const have = (FIELDS[name] || (() => []))(entry).filter((v) => v != null);
      const want = raw.split(",").map(fold);
      return !have.length || have.some((v) => want.includes(fold(v)));
    });
  }

  // Items the API lists for these filters, page after page while `enough` says more are needed.
  async function items(o, filters, query, enough) {
    const found = [];
    let url = `api/v1/feeds/${encodeURIComponent(o.feed)}/items?` + new URLSearchParams([...filters, ...query]);
    for (let page = 0; url && page < MAX_PAGES && !enough(found); page++) {
      const body = await json(url);
      found.push(...body.data);
      url = body.links.next ? body.links.next.slice(body.links.next.indexOf("api/v1/")) : null;
    }
    return found;
  }

  async function load(o) {
    const id = encodeURIComponent(o.feed);
    const [detail, crisis] = await Promise.all([json(`api/v1/feeds/${id}`), json(`widgets/${id}/crisis.json`)]);
    const feed = detail.data, now = detail.meta.generated_at;
    o.lang = o.lang || (feed.language === "en" ? "en" : "de");
    const kind = KINDS[feed.kind] || { fields: [] };
    o.view = o.view === "latest" ? "latest" : kind.view || "latest";
    const filters = [...new URLSearchParams(o.filter || "")];
    const d = { feed, updated: feed.status.last_success, pending: !feed.status.last_success, crisis: crisis.data };
    const published = (i) => Date.parse(i.published) <= Date.parse(now) && !crisis.data.some((c) => c.id === i.id);
    if (o.view === "latest") {
      const limit = kind.ahead ? 200 : o.items + 10; // a kind publishing ahead (reminders) lists those first
      const listed = await items(o, filters, [["limit", limit]], (f) => f.filter(published).length >= o.items);
      d.messages = listed.filter(published).slice(0, o.items);
    }
    let ids = null;
    if (filters.length && o.view !== "latest" && !kind.filters_entries) {
      const since = new Date(Date.parse(now) - 2 * 864e5).toISOString();
      const query = [["limit", 200]].concat(kind.ahead ? [["since", since]] : []);
      ids = new Set((await items(o, filters, query, () => false)).map((i) => i.id));
    }
    for (const key of kind.fields) {
      d[key] = (feed[key] || []).filter((e) => keep(e, filters, ids)).slice(0, o.items);
    }
    if (PREPARE[o.view]) await PREPARE[o.view](d, o);
    return d;
  }

  const VIEW = {
    latest(d, o, t, url) {
      return [h("h3", { class: "fsw-sub" }, t.latest), d.messages.length
        ? h("ul", { class: "fsw-list" }, d.messages.map((i) => h("li", null,
          h("a", { href: i.url || url, ...LINK }, i.title), time(i.published, moment(i.published, o), "fsw-when"),
          o.mode === "full" && i.summary ? h("p", { class: "fsw-summary" }, i.summary) : null)))
        : h("p", { class: "fsw-empty" }, t.none)];
    },
  };
  const TOP = {}, PREPARE = {}; // by view: banners above it, data it loads besides the API's
  /*PARTS*/

  function banner(kind, title, url, extra, o) {
    return h("div", { class: `fsw-banner fsw-${kind}` },
      h("p", { class: "fsw-banner-title" }, h("strong", null, title + ":"), " ", h("a", { href: url, ...LINK }, extra.title)),
      o.mode === "full" && extra.text ? h("p", null, extra.text) : null,
      extra.when ? h("p", { class: "fsw-banner-when" }, extra.prefix || null, time(extra.when, moment(extra.when, o))) : null);
  }

  function widget(d, o) {
    const t = T[o.lang], feed = d.feed, url = `${feed.links.html}?lang=${o.lang}`;
    const body = d.pending ? [h("p", { class: "fsw-empty" }, t.pending)] : VIEW[o.view](d, o, t, url);
    const top = TOP[o.view] ? TOP[o.view](d, o, t, url) : [];
    return h("section", { class: `fsw fsw-${o.mode} fsw-${o.view}`, "data-theme": o.theme, lang: o.lang,
      "aria-labelledby": "fsw-title" },
    h("h2", { class: "fsw-title", id: "fsw-title" }, h("a", { href: url, ...LINK }, feed.title,
      h("span", { class: "fsw-vh" }, ` ${t.new_tab}`))),
    d.crisis.map((c) => banner("crisis", t.crisis, c.url || url, { title: c.title, text: c.summary, when: c.published }, o)),
    top,
    body,
    h("p", { class: "fsw-foot" }, d.updated ? [`${t.updated}: `, time(d.updated, moment(d.updated, o)), ". "] : null,
      `${t.source}: ${feed.attribution || feed.title}, `,
      h("a", { href: feed.licence.url, target: "_blank", rel: "noopener noreferrer license" }, feed.licence.id),
      " · ", h("a", { href: url, ...LINK }, t.more)));
  }

  class FeedserverWidget extends HTMLElement {
    static get observedAttributes() { return ["feed", "lang", "items", "mode", "theme", "view", "filter", "tz"]; }

    connectedCallback() { this.schedule(); }

    attributeChangedCallback() { if (this.isConnected) this.schedule(); }

    schedule() {
      if (this.queued) return;
      this.queued = true;
      queueMicrotask(() => { this.queued = false; this.render(); });
    }

    options() {
      const a = (n) => this.getAttribute(n);
      const items = parseInt(a("items"), 10);
      return { feed: a("feed") || "", lang: ["de", "en"].includes(a("lang")) ? a("lang") : "",
        items: items >= 1 && items <= 20 ? items : 5, mode: a("mode") === "full" ? "full" : "compact",
        theme: ["light", "dark"].includes(a("theme")) ? a("theme") : "auto", view: a("view"),
        filter: a("filter"), tz: a("tz") || undefined };
    }

    async render() {
      const root = this.shadowRoot || this.attachShadow({ mode: "open" });
      if (!this.sheet) {
        this.sheet = h("link", { rel: "stylesheet", href: `${BASE}widget.css`, referrerpolicy: "no-referrer" });
        this.styled = new Promise((done) => { this.sheet.onload = this.sheet.onerror = done; });
      }
      const o = this.options(), run = (this.run = (this.run || 0) + 1);
      const lang = o.lang || (document.documentElement.lang.startsWith("en") ? "en" : "de");
      const status = (text, busy) => h("section", { class: "fsw", "data-theme": o.theme, lang, "aria-busy": busy },
        h("p", null, text));
      if (!root.contains(this.sheet)) root.replaceChildren(this.sheet, status(T[lang].loading, "true"));
      let view;
      try {
        view = widget(await load(o), o);
      } catch (e) {
        view = status(T[lang].error, null);
      }
      await this.styled;
      if (run === this.run) root.replaceChildren(this.sheet, view);
    }
  }

  if (!customElements.get("feedserver-widget")) customElements.define("feedserver-widget", FeedserverWidget);
})();
