  // Alerts in force as banners above a view (the alerts and transit kinds; kinds/_widget.py).
  const alertBanners = (d, o, t, url) => d.alerts.map((a) => banner("alert",
    a.severity ? `${t.alerts} (${a.severity})` : t.alerts, a.url || url,
    { title: a.title, text: a.area, when: a.ends, prefix: `${t.until} ` }, o));
