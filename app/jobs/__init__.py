"""The engine process: runner, periodic jobs, drills and the shared simulated clock."""
