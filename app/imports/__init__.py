"""Reading school rosters (CSV, XLSX) into rows; the import itself is app.services.imports."""
