"""Copy-paste commands that tail a topic with the clients people use: kcat and confluent-kafka.

`make run` prints them with the real address and the tests run exactly these, so the banner cannot lie.
Tansu (the embedded broker) answers librdkafka 2.0's ApiVersionRequest with a reply Debian's kcat cannot read, and
its ListOffsets v0 is unusable; kcat reads it only when it skips the version request, speaks the 0.9 protocol and
starts at an absolute offset (`-o 0`, not `beginning` or `end`). Consumer groups (`kcat -G`) do not work there.
"""

TANSU_KCAT_SETTINGS = ("-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0")

_PYTHON_TAIL = (
    "from confluent_kafka import Consumer; "
    "c = Consumer({{'bootstrap.servers': '{bootstrap}', 'group.id': 'rapport-guard-tail-{topic}', "
    "'auto.offset.reset': 'earliest', 'enable.auto.commit': False, "
    "'session.timeout.ms': 6000, 'max.poll.interval.ms': 6000}}); "
    "c.subscribe(['{topic}']); "
    "[print(m.value().decode(), flush=True) for m in iter(lambda: c.poll(1.0), 0) if m and not m.error()]"
)


def kcat_command(kind: str, bootstrap: str, topic: str) -> list[str]:
    """Every record of `topic` from the first, then new ones as they come (Ctrl-C stops it)."""
    if kind == "embedded":
        return ["kcat", "-b", bootstrap, *TANSU_KCAT_SETTINGS, "-C", "-u", "-t", topic, "-o", "0"]
    return ["kcat", "-b", bootstrap, "-C", "-u", "-t", topic, "-o", "beginning"]


def python_tail_code(bootstrap: str, topic: str) -> str:
    """A confluent-kafka loop printing every record's value; short group timeouts so Tansu assigns in seconds."""
    return _PYTHON_TAIL.format(bootstrap=bootstrap, topic=topic)


def python_tail_command(bootstrap: str, topic: str) -> str:
    """A shell line; the code holds no double quote, dollar or backquote, so double quotes keep it readable."""
    return f'uv run python -c "{python_tail_code(bootstrap, topic)}"'
