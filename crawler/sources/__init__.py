"""Adding and checking publishers: discovery from a homepage (`discover`), source checks (`check`), the sample
article (`sample`), registry edits that keep comments (`edit`), all fetched through the crawler's own downloader
(`fetch`). The registry data itself is `publishers.toml` beside these modules."""
