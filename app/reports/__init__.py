"""Reports for schools and counties: the weekly bulletin and the three lists, monthly and county
reviews, ledgers (台账) and rates, the school-age register; each with its XLSX twin."""
