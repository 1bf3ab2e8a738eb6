"""The roll (一日三查): intake, leaves, day status, class and student queries."""
