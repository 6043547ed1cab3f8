"""What a reliability run found: figures per scenario and the checks that must hold."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class ScenarioResult:
    name: str
    figures: dict[str, float | int] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))

    def must_be_zero(self, figure: str) -> None:
        value = self.figures.get(figure, 0)
        self.check(f"{figure} == 0", value == 0, f"{figure} = {value}")

    @property
    def ok(self) -> bool:
        return self.error is None and all(check.ok for check in self.checks)


@dataclass
class Report:
    scenarios: list[ScenarioResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(1 for scenario in self.scenarios if scenario.ok)

    @property
    def failed(self) -> int:
        return len(self.scenarios) - self.passed

    def render(self) -> str:
        lines = ["", "Rapport Guard reliability report", "=" * 32]
        for scenario in self.scenarios:
            lines.append(f"\n[{'PASS' if scenario.ok else 'FAIL'}] {scenario.name} ({scenario.seconds:.0f} s)")
            for name, value in scenario.figures.items():
                shown = f"{value:.1f}" if isinstance(value, float) else str(value)
                lines.append(f"    {name:<42} {shown:>10}")
            for check in scenario.checks:
                mark = "ok " if check.ok else "NOT"
                lines.append(f"    {mark} {check.name}" + (f"  ({check.detail})" if check.detail else ""))
            if scenario.error:
                lines.append(f"    error: {scenario.error}")
        lines.append("")
        lines.append(f"reliability: {self.passed} passed, {self.failed} failed")
        return "\n".join(lines)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps([asdict(s) for s in self.scenarios], indent=2) + "\n")
