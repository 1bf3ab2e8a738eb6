"""因病缺勤 surveillance (issue 21): the illness register fed by the roll and by sick leave,
cluster alerts with their report obligation, reports, summaries and 复课证明."""
