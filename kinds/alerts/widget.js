  // The alerts kind's part of widget.js: alerts in force as banners.
  FIELDS.category = (e) => [e.category, e.severity]; // an alert's category filter is its severity
  VIEW.alerts = (d, o, t) => {
    return d.alerts.length ? [] : [h("p", { class: "fsw-empty" }, t.no_alerts)];
  };
  TOP.alerts = alertBanners;
