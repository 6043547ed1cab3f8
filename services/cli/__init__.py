"""`rapport-guard`: one console script; each subcommand lives in its own module with a `register` function."""
