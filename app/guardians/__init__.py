"""The family (issue 22): guardian notices of unexplained absences, and the guardians' answers."""
