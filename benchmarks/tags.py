"""Tag quality: precision and recall of article tags against what each demo article is about.

The labels (benchmarks/tags/labels.jsonl, one line per article of newsagg/demo/content/events/) were written by
reading the articles: the companies and themes each one is about, not every name it mentions. Three taggers run
on the same articles in the same run:
- today: every lexicon mention is a tag, with the lexicon as it was before "about" tags (tags/lexicon_before.toml);
- mentions: the same rule on the current lexicon (guards, more companies), to separate lexicon from method;
- about: crawler/topics.py (salience: title, lead, share and frequency of sentences; themes by density).
Micro precision / recall / F1 overall and per tag kind, and per half of the events (split by event id) to show
the figures do not hinge on a few events; and the time each takes per article (median of 5 passes; all three use
the current matcher in crawler/lexicon.py, so the column compares rules, not matchers). Last line: JSON.

    python benchmarks/tags.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.lexicon import load_lexicon  # noqa: E402
from crawler.relevance import RelevanceScorer  # noqa: E402
from crawler.topics import TopicTagger  # noqa: E402
from newsagg.demo.content import load_articles as demo_articles  # noqa: E402

HERE = Path(__file__).resolve().parent / "tags"


def load_articles(labels_path: Path) -> list[dict]:
    """Each labelled article with its text from the demo content (body paragraphs one a line, as stored)."""
    texts = {(a.event_id, a.outlet, a.slug): a for a in demo_articles()}
    out = []
    for line in labels_path.read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        a = texts.pop((label["event"], label["outlet"], label["slug"]))
        out.append({**label, "title": a.title, "summary": a.summary, "body": "\n".join(a.body)})
    if texts:
        raise SystemExit(f"{len(texts)} demo articles have no label, e.g. {next(iter(texts))}")
    return out


def score(articles: list[dict], predict: Callable[[dict], list[str]], kinds: dict[str, str]) -> dict:
    """Micro precision/recall/F1 over all (article, tag) pairs, overall and per kind."""
    counts = {k: [0, 0, 0] for k in ("all", "company", "theme")}  # true positives, predicted, labelled
    for a in articles:
        gold = set(a["companies"]) | set(a["themes"])
        pred = {t for t in predict(a) if t in kinds}  # lexicon tags only: publisher keywords are not judged
        for tag in gold | pred:
            kind = "company" if tag in a["companies"] or kinds.get(tag) == "company" else "theme"
            for k in ("all", kind):
                counts[k][0] += tag in gold and tag in pred
                counts[k][1] += tag in pred
                counts[k][2] += tag in gold
    return {k: _prf(*v) for k, v in counts.items()}


def _prf(tp: int, predicted: int, labelled: int) -> dict:
    p = tp / predicted if predicted else 0.0
    r = tp / labelled if labelled else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "tp": tp, "predicted": predicted,
            "labelled": labelled}


def ms_per_article(articles: list[dict], predict: Callable[[dict], list[str]], passes: int = 5) -> float:
    """Median over passes of the time to tag every article once."""
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        for a in articles:
            predict(a)
        times.append((time.perf_counter() - start) * 1000 / len(articles))
    return statistics.median(times)


def taggers() -> dict[str, Callable[[dict], list[str]]]:
    before = RelevanceScorer(HERE / "lexicon_before.toml")
    mentions = RelevanceScorer()
    about = TopicTagger()
    return {
        "today (mentions, old lexicon)": lambda a: before.score(a["title"], a["body"]).tags,
        "mentions, new lexicon": lambda a: mentions.score(a["title"], a["body"]).tags,
        "about (crawler/topics.py)": lambda a: about.topics(a["title"], a["summary"], a["body"]).tags,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=HERE / "labels.jsonl")
    args = parser.parse_args()
    articles = load_articles(args.labels)
    kinds = load_lexicon().kinds
    events = sorted({a["event"] for a in articles})
    halves = {h: [a for a in articles if events.index(a["event"]) % 2 == i] for i, h in enumerate("ab")}
    results = {}
    print(f"{len(articles)} labelled articles, {len(events)} events\n")
    print(f"{'tagger':32} {'P':>6} {'R':>6} {'F1':>6} | {'company P':>9} {'R':>6} | {'theme P':>7} {'R':>6} | "
          f"{'F1 half a':>9} {'b':>6} | {'ms/article':>10}")
    for name, predict in taggers().items():
        r = score(articles, predict, kinds)
        r["halves"] = {h: score(part, predict, kinds)["all"]["f1"] for h, part in halves.items()}
        r["ms_per_article"] = round(ms_per_article(articles, predict), 2)
        results[name] = r
        print(f"{name:32} {r['all']['precision']:6.3f} {r['all']['recall']:6.3f} {r['all']['f1']:6.3f} | "
              f"{r['company']['precision']:9.3f} {r['company']['recall']:6.3f} | "
              f"{r['theme']['precision']:7.3f} {r['theme']['recall']:6.3f} | "
              f"{r['halves']['a']:9.3f} {r['halves']['b']:6.3f} | {r['ms_per_article']:10.2f}")
    print("\nexamples (today -> about):")
    for a in articles:
        if (a["event"], a["outlet"]) in {("tesla-cheaper-model-y-standard", "voltwire"),
                                         ("xiaomi-yu7-launch", "autopulse")}:
            old, new = (p(a) for n, p in taggers().items() if n != "mentions, new lexicon")
            print(f"  {a['title'][:70]}\n    today: {' '.join(old)}\n    about: {' '.join(new)}")
    print(json.dumps({"articles": len(articles), "results": results}))


if __name__ == "__main__":
    main()
