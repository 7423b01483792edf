  // Alerts in force as banners above a view (the alerts and transit kinds; kinds/_widget.py), in the widget's
  // language where the alert has it (a CAP alert's English info block), as the iframe page shows them.
  const alertBanners = (d, o, t, url) => d.alerts.map((a) => {
    const own = (a.translations || {})[o.lang] || {};
    return banner("alert", a.severity ? `${t.alerts} (${a.severity})` : t.alerts, a.url || url,
      { title: own.title || a.title, text: own.area || a.area, when: a.ends, prefix: `${t.until} ` }, o);
  });
