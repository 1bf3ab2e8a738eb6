"""Report files for people (XLSX with Chinese titles and headers)."""
