"""`rapport-guard`: the command line for operators and scripts (backtest, policy, check, alerts)."""
