  // The noise kind's part of widget.js (tests/noise_plugin.py): the loudest place.
  VIEW.noise = (d, o, t) => [h("h3", { class: "fsw-sub" }, t.noise), d.loudest
    ? h("p", { class: "fsw-noise" }, `${t.loudest}: `, h("strong", null, d.loudest.toUpperCase()))
    : h("p", { class: "fsw-empty" }, t.quiet)];
