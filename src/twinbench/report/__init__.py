"""The HTML report: a pure model of what it shows, its charts, rendering, and the I/O that
reads results folders and writes the file."""
