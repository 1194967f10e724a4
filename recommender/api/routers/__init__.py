"""One router per resource: articles, related, search, stories, sources, feeds, widgets, health."""
