"""The small world the dashboard tests read: a real store (articles, a syndicated copy, a hostile article, a crawl
run) indexed by the real RelatedService, and the environment that points the app at a store."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from newsagg.config import Settings, get_settings
from newsagg.models import Article
from newsagg.store import Store

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboard" / "app.py"
HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE_TITLE = f"Pwned? {HOSTILE_SCRIPT} {HOSTILE_IMG}"
HOSTILE_BODY = (
    f"This paragraph tries {HOSTILE_SCRIPT} and {HOSTILE_IMG} inside an electric vehicle battery story.\n"
    "**Not bold** [click me](javascript:alert(1)) :red[not red] $x^2$ and a line of | pipes |.\n"
    "# Not a heading\n- not a list item\n" + " ".join(["Filler words about chargers and cars."] * 12)
)
BASE_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def body(*sentences: str, repeat: int = 4) -> str:
    return "\n".join(" ".join(sentences) for _ in range(repeat))


# (key, source, title, body, tags, days after BASE_TIME)
ARTICLES = [
    ("vw_rivian", "voltwire", "Volkswagen to invest up to $5 billion in Rivian software joint venture",
     body("Volkswagen will invest up to $5 billion in Rivian and form a joint venture for software.",
          "The Rivian Volkswagen venture develops zonal electrical architecture for future EVs."),
     ["volkswagen", "rivian", "software"], 30),
    ("vw_rivian_2", "gigadrive", "Why Volkswagen bets $5 billion on Rivian's software architecture",
     body("Volkswagen commits $5 billion to a Rivian joint venture to fix its EV software problems.",
          "Rivian's zonal architecture and software stack will run Volkswagen electric cars."),
     ["volkswagen", "rivian", "software"], 30.5),
    ("byd_flash", "voltwire", "BYD unveils 1,000 kW flash charging that adds 400 km in five minutes",
     body("BYD showed a megawatt flash charging system for electric cars with 1,000 kW peak power.",
          "The BYD Super e-Platform adds 400 km of range in five minutes of charging."),
     ["byd", "charging", "batteries"], 20),
    ("byd_flash_2", "gigadrive", "BYD's megawatt charger: 400 km of range in five minutes",
     body("BYD's new megawatt charging platform reaches 1,000 kW and adds 400 km in five minutes.",
          "BYD will build thousands of flash charging stations in China for its electric cars."),
     ["byd", "charging"], 20.3),
    ("waymo", "circuitchassis", "Waymo opens robotaxi rides in Austin with Uber",
     body("Waymo driverless robotaxi rides launch in Austin through the Uber app.",
          "The autonomous Jaguar I-Pace fleet covers downtown Austin neighbourhoods."),
     ["waymo", "autonomy", "robotaxi"], 10),
]
FILLERS = [  # distinct topics, so the Latest page has more than one page at 10 per page
    ("solid-state battery pilot line", "batteries"), ("lidar sensor price cut", "autonomy"),
    ("EV tax credit expiry", "policy"), ("chip shortage easing for carmakers", "chips"),
    ("smartphone maker's first sedan", "gadgets"), ("charging network reliability survey", "charging"),
    ("over-the-air update recall", "software"), ("hydrogen truck startup closes", "markets"),
    ("sodium-ion cells reach small cars", "batteries"),
]


@dataclass(frozen=True)
class DashboardStore:
    url: str
    data_dir: Path
    ids: dict[str, int]  # fixture key → article id


def unescape_md(text: str) -> str:
    """What escaped Markdown renders as (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", text)


def new_article(store: Store, source: str, title: str, text: str, tags: list[str], when: datetime = BASE_TIME,
                **extra) -> Article:
    """An Article as the crawler would store it (source created on first use)."""
    return Article(
        url=extra.pop("url", f"https://{source}.example/{hashlib.sha1(title.encode()).hexdigest()[:10]}"),
        source_id=store.ensure_source(source, homepage=f"https://{source}.example/"),
        title=title, authors=extra.pop("authors", ["Ada Writer"]), published_at=when, language="en",
        summary=extra.pop("summary", text.split(".")[0] + "."), body=text, tags=tags, relevance=0.9,
        content_hash=hashlib.sha256(text.encode()).hexdigest(), **extra,
    )


def fill_store(store: Store) -> dict[str, int]:
    """The small world every dashboard test reads; returns article ids by key."""
    ids: dict[str, int] = {}
    for key, source, title, text, tags, days in ARTICLES:
        extra = {"entities": ["volkswagen", "rivian", "xpeng"]} if key == "vw_rivian" else {}
        ids[key] = store.add_article(new_article(store, source, title, text, tags, BASE_TIME + timedelta(days=days),
                                                 **extra))
    original = store.get_article(ids["vw_rivian"])
    ids["vw_rivian_copy"] = store.add_article(new_article(
        store, "circuitchassis", original.title, original.body, list(original.tags),
        BASE_TIME + timedelta(days=30.2), near_dup_group=ids["vw_rivian"], url="https://circuitchassis.example/copy",
    ))
    for i, (topic, tag) in enumerate(FILLERS):
        ids[f"filler{i}"] = store.add_article(new_article(
            store, ["voltwire", "gigadrive", "circuitchassis"][i % 3], f"Report {i}: {topic}",
            body(f"A report on the {topic} and what it means for electric cars.", f"Topic {tag} number {i}."),
            [tag], BASE_TIME + timedelta(days=i),
        ))
    ids["hostile"] = store.add_article(new_article(
        store, "hostile", HOSTILE_TITLE, HOSTILE_BODY, ["batteries", "<b>tag</b>"], BASE_TIME - timedelta(days=3),
        url="javascript:alert(document.domain)//x", lead_image="javascript:alert(1)",
        summary=f"Summary with {HOSTILE_SCRIPT} and **stars**", authors=[HOSTILE_IMG],
    ))
    run = store.start_run("", ["voltwire", "gigadrive", "circuitchassis"])
    store.finish_run(run, "finished", {"pages": 20, "new": 15, "duplicate": 1, "near_duplicate": 1},
                     {"off_topic": 2, "http_404": 1})
    return ids


def index_store(url: str, data_dir: Path) -> None:
    """Build the index and stories with the real service, as `newsagg index` would."""
    from recommender.service import RelatedService

    store = Store(url)
    try:
        RelatedService(store, Settings(database_url=url, data_dir=data_dir)).update_index()
    finally:
        store.close()


def point_app_at(monkeypatch, url: str, data_dir: Path) -> None:
    """The environment `newsagg dashboard` would be started with; settings are re-read from it."""
    monkeypatch.setenv("NEWSAGG_DATABASE_URL", url)
    monkeypatch.setenv("NEWSAGG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("NEWSAGG_CONFIG", "/nonexistent/newsagg.toml")
    get_settings.cache_clear()
