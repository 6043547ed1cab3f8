"""Backtest: replays an activity export through the scorer's own processor and reports what the policy would do.

Pure where it can be: `reading` turns files into events (and problems), `replay` runs them through the processor
on a memory store, `summary` condenses the alerts, `compare` lists what a second policy changes, and `report`
draws the self-contained HTML page. The command line around it lives in `services/cli/backtest.py`.
"""
