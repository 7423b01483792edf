  // The requests kind's part of widget.js: each report's timeline, received -> in progress -> done.
  VIEW.requests = (d, o, t) => {
    const change = (c) => [" ", time(c.at, moment(c.at, o), "fsw-when"),
      o.mode === "full" && c.notes ? [" ", h("span", { class: "fsw-summary" }, c.notes)] : null];
    const step = (r, s) => h("li", { "aria-current": s.stage === r.stage ? "step" : null },
      h("strong", null, t[`req_${s.stage}`]),
      s.changes.length ? [":", s.changes.map(change)] : s.reached ? null : `: ${t.req_not_yet}`);
    const report = (r) => h("li", { class: "fsw-request" }, h("p", { class: "fsw-request-title" }, `${t.req_report} ${r.request_id}, ${r.subject}`),
      h("ol", { class: "fsw-timeline", "aria-label": `${t.req_timeline} ${r.request_id}` },
        r.timeline.map((s) => step(r, s))),
      r.expected && r.stage !== "done"
        ? h("p", { class: "fsw-summary" }, `${t.req_expected}: `, time(r.expected, moment(r.expected, o))) : null);
    return [h("h3", { class: "fsw-sub" }, t.req_heading), d.requests.length
      ? h("ul", { class: "fsw-list" }, d.requests.map(report))
      : h("p", { class: "fsw-empty" }, t.req_none)];
  };
