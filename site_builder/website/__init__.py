"""The static website: pages, links, feed, stats, search index, link check and the live preview."""
