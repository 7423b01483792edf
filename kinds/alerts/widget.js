  // The alerts kind's part of widget.js: alerts in force as banners.
  VIEW.alerts = (d, o, t) => {
    return d.alerts.length ? [] : [h("p", { class: "fsw-empty" }, t.no_alerts)];
  };
  TOP.alerts = alertBanners;
