  // The waste kind's part of widget.js: the next pickup per category (kinds/waste/widget.py).
  const CATS = /*CATEGORIES*/null;
  VIEW.pickups = (d, o, t) => {
    const name = (p) => CATS[o.lang][p.category] || p.label || p.category;
    return [h("h3", { class: "fsw-sub" }, t.pickups), d.next_pickups.length
      ? h("ul", { class: "fsw-list" }, d.next_pickups.map((p) => h("li", { class: "fsw-pickup" },
        time(p.date, day(p.date, o.lang), "fsw-day"),
        h("span", { class: `fsw-chip fsw-c-${CATS.en[p.category] ? p.category : "other"}` }, name(p)),
        o.mode === "full" && p.label && p.label !== name(p) ? h("span", { class: "fsw-summary" }, p.label) : null)))
      : h("p", { class: "fsw-empty" }, t.no_pickups)];
  };
