"""转学 and 休学: transfers, suspensions, departures and the follow-ups after."""
