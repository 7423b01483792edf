  // The transit kind's part of widget.js: the departure board, alerts in force above it.
  FIELDS.line = (e) => [e.line];
  FIELDS.stop = (e) => [e.stop_id, e.stop_name];
  FIELDS.type = (e) => [e.type];
  MINIMUM.min_delay = (e) => e.delay_minutes;
  VIEW.delays = (d, o, t) => {
    const row = (x) => h("tr", null, h("th", { scope: "row" }, x.line || "–"), h("td", null, x.stop_name || x.stop_id || "–"),
      h("td", null, x.scheduled ? time(x.scheduled, clock(x.scheduled, o.tz)) : "–"),
      h("td", { class: "fsw-late" }, x.type === "cancellation" ? t.cancelled : t.minutes.replace("{n}", x.delay_minutes)));
    return [h("h3", { class: "fsw-sub" }, t.delays), d.delays.length
      ? h("div", { class: "fsw-scroll", role: "group", "aria-label": t.delays, tabindex: "0" },
        h("table", { class: "fsw-board" }, h("thead", null, h("tr", null,
          [t.line, t.stop, t.scheduled, t.delay].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", null, d.delays.map(row))))
      : h("p", { class: "fsw-empty" }, t.no_delays)];
  };
  TOP.delays = alertBanners;
