"""Every PromQL expression the project ships (dashboard panels, alert rules), as Prometheus would receive it."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
RULES = ROOT / "deploy" / "prometheus" / "rules"

GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "15s"}
"""What Grafana substitutes before a query reaches Prometheus (values as for a 1 h range and 15 s scrapes)."""

COMPARISON = re.compile(r"(==|!=|>=|<=|>|<)(\s*)(?!\s*bool\b)")


@dataclass(frozen=True)
class Expression:
    where: str
    promql: str

    def metric_names(self) -> set[str]:
        return set(re.findall(r"\b(?:rapport|faststream)_[a-z0-9_]+|\bup\b", self.promql))


def dashboard_expressions() -> list[Expression]:
    found = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for variable, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                found.append(Expression(f"{board['title']} / {panel['title']} / {target['refId']}", expr))
    return found


def rule_expressions() -> list[Expression]:
    return [
        Expression(f"rule {rule.get('alert') or rule.get('record')}", " ".join(str(rule["expr"]).split()))
        for path in sorted(RULES.glob("*.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def with_bool_comparisons(expr: str) -> str:
    """`a > 0.1` → `a > bool 0.1`: the series an alert watches, whether or not it fires right now.

    Label matchers (`{status!="200"}`) and strings are left alone; only comparison operators between values change.
    """
    out: list[str] = []
    depth = 0
    quote: str | None = None
    index = 0
    while index < len(expr):
        char = expr[index]
        if quote is not None:
            out.append(char)
            if char == "\\":
                out.append(expr[index + 1])
                index += 1
            elif char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
            out.append(char)
        elif char == "{":
            depth += 1
            out.append(char)
        elif char == "}":
            depth -= 1
            out.append(char)
        elif depth == 0 and (match := COMPARISON.match(expr, index)):
            out.append(f"{match.group(1)} bool{match.group(2) or ' '}")
            index = match.end()
            continue
        else:
            out.append(char)
        index += 1
    return "".join(out)
