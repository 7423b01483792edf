"""feedserver: a city's upstream services as open feeds (RSS, Atom, JSON Feed, iCalendar, API, widgets).

The web app is built by `feedserver.app.create_app`; README "Architecture" shows the flow and the layers.
"""
