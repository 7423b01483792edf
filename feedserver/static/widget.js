/* <feedserver-widget feed="ID" lang="de|en" items="5" mode="compact|full" theme="auto|light|dark"
   view="auto|latest" filter="category=paper" tz="Europe/Berlin">: a feed of this server in any page.
   Same markup and stylesheet as the iframe page /widgets/ID. No cookies, no storage, no framework; it talks
   only to the server it was loaded from, never with a referrer. Colours: CSS custom properties (widget.css). */
(() => {
  "use strict";
  const src = document.currentScript && document.currentScript.src;
  const BASE = new URL(".", src || location.href).href;
  // The words: a copy of feedserver/web/widget_text.py (TEXT, CATEGORY_LABELS) and air.py NAMES.
  const WORDS = /*WORDS*/{"text":{"de":{"latest":"Neueste Meldungen","pickups":"Nächste Abholtermine","air":"Aktuelle Luftqualität","delays":"Aktuelle Verspätungen","alerts":"Warnungen","crisis":"Wichtige Mitteilung","none":"Derzeit keine Meldungen.","no_pickups":"Keine kommenden Abholtermine.","no_readings":"Keine aktuellen Messwerte.","no_delays":"Derzeit keine Verspätungen.","no_alerts":"Derzeit keine Warnungen.","line":"Linie","stop":"Haltestelle","scheduled":"Plan","delay":"Verspätung","cancelled":"fällt aus","until":"bis","minutes":"+{n} min","level_none":"unter den Schwellenwerten","level_info":"Informationsschwelle überschritten","level_alert":"Alarmschwelle überschritten","level_unknown":"kein Schwellenwert festgelegt","stale":"veraltet","measured":"gemessen","chart":"Verlauf der letzten 48 Stunden","chart_desc":"{name} an {station}: {count} Stundenwerte, niedrigster {low}, höchster {high}, zuletzt {last} {unit} um {time}.","table":"Messwerte als Tabelle","hour":"Stunde bis","value":"Wert","updated":"Stand","source":"Quelle","more":"Alle Meldungen","new_tab":"(öffnet in neuem Tab)","error":"Die Daten konnten nicht geladen werden.","pending":"Noch keine Daten abgerufen.","loading":"Wird geladen …"},"en":{"latest":"Latest messages","pickups":"Next collections","air":"Current air quality","delays":"Current delays","alerts":"Warnings","crisis":"Important notice","none":"No messages at the moment.","no_pickups":"No upcoming collections.","no_readings":"No recent readings.","no_delays":"No delays at the moment.","no_alerts":"No warnings at the moment.","line":"Line","stop":"Stop","scheduled":"Scheduled","delay":"Delay","cancelled":"cancelled","until":"until","minutes":"+{n} min","level_none":"below the thresholds","level_info":"information threshold exceeded","level_alert":"alert threshold exceeded","level_unknown":"no threshold set","stale":"out of date","measured":"measured","chart":"The last 48 hours","chart_desc":"{name} at {station}: {count} hourly values, lowest {low}, highest {high}, latest {last} {unit} at {time}.","table":"Readings as a table","hour":"Hour ending","value":"Value","updated":"As of","source":"Source","more":"All messages","new_tab":"(opens in a new tab)","error":"The data could not be loaded.","pending":"No data fetched yet.","loading":"Loading …"}},"categories":{"de":{"organic":"Bioabfall","paper":"Papier","packaging":"Verpackungen","residual":"Restmüll","glass":"Glas","garden":"Grünschnitt","bulky":"Sperrmüll","hazardous":"Schadstoffe","christmas-tree":"Weihnachtsbaum","other":"Sonstiges"},"en":{"organic":"Organic","paper":"Paper","packaging":"Packaging","residual":"Residual waste","glass":"Glass","garden":"Garden waste","bulky":"Bulky waste","hazardous":"Hazardous waste","christmas-tree":"Christmas tree","other":"Other"}},"pollutants":{"de":{"o3":"Ozon","no2":"Stickstoffdioxid","pm10":"Feinstaub PM10","pm2.5":"Feinstaub PM2,5","so2":"Schwefeldioxid","co":"Kohlenmonoxid"},"en":{"o3":"Ozone","no2":"Nitrogen dioxide","pm10":"Particulate matter PM10","pm2.5":"Particulate matter PM2.5","so2":"Sulphur dioxide","co":"Carbon monoxide"}}}/*END*/;
  const T = WORDS.text, CATS = WORDS.categories, POLL = WORDS.pollutants;
  const KIND_VIEWS = { waste: "pickups", air: "air", transit: "delays", alerts: "alerts" };
  const DAYS = { de: ["So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"], en: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] };
  const LINK = { target: "_blank", rel: "noopener noreferrer" };
  const MAX_PAGES = 5;
  // Choice filters by the API entry fields they look at (as feedserver/filters.py); minimums below.
  const FIELDS = {
    category: (e) => [e.category, e.severity], area: (e) => [e.area], component: (e) => [e.component],
    station: (e) => [e.station, e.station_name], line: (e) => [e.line], stop: (e) => [e.stop_id, e.stop_name],
    type: (e) => [e.type],
  };
  const MINIMUM = { min_value: (e) => e.value, min_delay: (e) => e.delay_minutes };

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
  const moment = (iso, o) => iso.length === 10 ? day(iso, o.lang)
    : `${dayOf(parts(new Date(iso), o.tz), o.lang)}, ${clock(iso, o.tz)}`;
  const time = (iso, text, cls) => h("time", { datetime: iso, class: cls }, text);
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
    o.view = o.view === "latest" ? "latest" : KIND_VIEWS[feed.kind] || "latest";
    const filters = [...new URLSearchParams(o.filter || "")];
    const d = { feed, updated: feed.status.last_success, pending: !feed.status.last_success, crisis: crisis.data };
    const published = (i) => Date.parse(i.published) <= Date.parse(now) && !crisis.data.some((c) => c.id === i.id);
    if (o.view === "latest") {
      const limit = feed.kind === "waste" ? 200 : o.items + 10; // waste lists its future reminders first
      const listed = await items(o, filters, [["limit", limit]], (f) => f.filter(published).length >= o.items);
      d.messages = listed.filter(published).slice(0, o.items);
    }
    let ids = null;
    if (filters.length && o.view !== "air" && o.view !== "latest") {
      const since = new Date(Date.parse(now) - 2 * 864e5).toISOString();
      const query = [["limit", 200]].concat(feed.kind === "waste" ? [["since", since]] : []);
      ids = new Set((await items(o, filters, query, () => false)).map((i) => i.id));
    }
    for (const key of ["next_pickups", "readings", "delays", "alerts"]) {
      d[key] = (feed[key] || []).filter((e) => keep(e, filters, ids)).slice(0, o.items);
    }
    if (o.view === "air") d.charts = await Promise.all(d.readings.map((r) => chart(o, r)));
    return d;
  }

  async function chart(o, r) {
    if ((r.series || []).length < 2) return null;
    try {
      const path = `widgets/${encodeURIComponent(o.feed)}/charts/${encodeURIComponent(r.station)}/`
        + `${encodeURIComponent(r.component)}.svg?lang=${o.lang}`;
      const doc = new DOMParser().parseFromString(await (await get(path)).text(), "image/svg+xml");
      const svg = doc.documentElement;
      return svg.localName === "svg" ? document.importNode(svg, true) : null;
    } catch (e) {
      return null; // the reading's text stays; only the picture is missing
    }
  }

  function band(r) {
    if (r.level === "info" || r.level === "alert") return r.level;
    return Object.values(r.thresholds || {}).some((v) => v != null) ? "none" : "unknown";
  }

  const VIEW = {
    latest(d, o, t, url) {
      return [h("h3", { class: "fsw-sub" }, t.latest), d.messages.length
        ? h("ul", { class: "fsw-list" }, d.messages.map((i) => h("li", null,
          h("a", { href: i.url || url, ...LINK }, i.title), time(i.published, moment(i.published, o), "fsw-when"),
          o.mode === "full" && i.summary ? h("p", { class: "fsw-summary" }, i.summary) : null)))
        : h("p", { class: "fsw-empty" }, t.none)];
    },
    pickups(d, o, t) {
      const name = (p) => CATS[o.lang][p.category] || p.label || p.category;
      return [h("h3", { class: "fsw-sub" }, t.pickups), d.next_pickups.length
        ? h("ul", { class: "fsw-list" }, d.next_pickups.map((p) => h("li", { class: "fsw-pickup" },
          time(p.date, day(p.date, o.lang), "fsw-day"),
          h("span", { class: `fsw-chip fsw-c-${CATS.en[p.category] ? p.category : "other"}` }, name(p)),
          o.mode === "full" && p.label && p.label !== name(p) ? h("span", { class: "fsw-summary" }, p.label) : null)))
        : h("p", { class: "fsw-empty" }, t.no_pickups)];
    },
    air(d, o, t) {
      return [h("h3", { class: "fsw-sub" }, t.air), d.readings.length
        ? h("ul", { class: "fsw-list" }, d.readings.map((r, n) => reading(r, d.charts[n], o, t)))
        : h("p", { class: "fsw-empty" }, t.no_readings)];
    },
    delays(d, o, t) {
      const row = (x) => h("tr", null, h("th", { scope: "row" }, x.line || "–"), h("td", null, x.stop_name || x.stop_id || "–"),
        h("td", null, x.scheduled ? time(x.scheduled, clock(x.scheduled, o.tz)) : "–"),
        h("td", { class: "fsw-late" }, x.type === "cancellation" ? t.cancelled : t.minutes.replace("{n}", x.delay_minutes)));
      return [h("h3", { class: "fsw-sub" }, t.delays), d.delays.length
        ? h("div", { class: "fsw-scroll", role: "group", "aria-label": t.delays, tabindex: "0" },
          h("table", { class: "fsw-board" }, h("thead", null, h("tr", null,
            [t.line, t.stop, t.scheduled, t.delay].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", null, d.delays.map(row))))
        : h("p", { class: "fsw-empty" }, t.no_delays)];
    },
    alerts(d, o, t) {
      return d.alerts.length ? [] : [h("p", { class: "fsw-empty" }, t.no_alerts)];
    },
  };

  function reading(r, svg, o, t) {
    const level = band(r), unit = r.unit || "";
    // The caption comes last, as in the server's template: HTML allows it only first or last in a figure.
    const figure = svg && h("figure", { class: "fsw-chart" }, svg,
      o.mode === "full" ? h("details", null, h("summary", null, t.table), h("table", null,
        h("caption", { class: "fsw-vh" }, (svg.querySelector("title") || {}).textContent),
        h("thead", null, h("tr", null, h("th", { scope: "col" }, t.hour), h("th", { scope: "col" }, `${t.value} (${unit})`))),
        h("tbody", null, r.series.slice().reverse().map((p) => h("tr", null,
          h("td", null, time(p.at, clock(p.at, o.tz))), h("td", null, number(p.value, o.lang))))))) : null,
      h("figcaption", null, (svg.querySelector("desc") || {}).textContent));
    return h("li", { class: "fsw-reading" },
      h("p", { class: "fsw-value" }, h("span", { class: "fsw-name" }, POLL[o.lang][r.component] || r.component),
        r.value != null ? [" ", h("strong", null, `${number(r.value, o.lang)} ${unit}`)] : null, " ",
        h("span", { class: `fsw-band fsw-band-${level}` }, t[`level_${level}`]),
        r.stale ? [" ", h("span", { class: "fsw-stale" }, `(${t.stale})`)] : null),
      r.measured_at ? h("p", { class: "fsw-when" }, `${r.station_name || r.station}, ${t.measured} `,
        time(r.measured_at, moment(r.measured_at, o))) : null,
      figure);
  }

  function banner(kind, title, url, extra, o) {
    return h("div", { class: `fsw-banner fsw-${kind}` },
      h("p", { class: "fsw-banner-title" }, h("strong", null, title + ":"), " ", h("a", { href: url, ...LINK }, extra.title)),
      o.mode === "full" && extra.text ? h("p", null, extra.text) : null,
      extra.when ? h("p", { class: "fsw-banner-when" }, extra.prefix || null, time(extra.when, moment(extra.when, o))) : null);
  }

  function widget(d, o) {
    const t = T[o.lang], feed = d.feed, url = `${feed.links.html}?lang=${o.lang}`;
    const body = d.pending ? [h("p", { class: "fsw-empty" }, t.pending)] : VIEW[o.view](d, o, t, url);
    const alerts = o.view === "alerts" || o.view === "delays" ? d.alerts : [];
    return h("section", { class: `fsw fsw-${o.mode} fsw-${o.view}`, "data-theme": o.theme, lang: o.lang,
      "aria-labelledby": "fsw-title" },
    h("h2", { class: "fsw-title", id: "fsw-title" }, h("a", { href: url, ...LINK }, feed.title,
      h("span", { class: "fsw-vh" }, ` ${t.new_tab}`))),
    d.crisis.map((c) => banner("crisis", t.crisis, c.url || url, { title: c.title, text: c.summary, when: c.published }, o)),
    alerts.map((a) => banner("alert", a.severity ? `${t.alerts} (${a.severity})` : t.alerts, a.url || url,
      { title: a.title, text: a.area, when: a.ends, prefix: `${t.until} ` }, o)),
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
