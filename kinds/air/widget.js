  // The air kind's part of widget.js: readings with their server-drawn 48-hour charts (kinds/air/widget.py).
  FIELDS.component = (e) => [e.component];
  FIELDS.station = (e) => [e.station, e.station_name];
  MINIMUM.min_value = (e) => e.value;
  const POLL = /*POLLUTANTS*/null;
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
  VIEW.air = (d, o, t) => {
    return [h("h3", { class: "fsw-sub" }, t.air), d.readings.length
      ? h("ul", { class: "fsw-list" }, d.readings.map((r, n) => reading(r, d.charts[n], o, t)))
      : h("p", { class: "fsw-empty" }, t.no_readings)];
  };
  PREPARE.air = async (d, o) => { d.charts = await Promise.all(d.readings.map((r) => chart(o, r))); };
