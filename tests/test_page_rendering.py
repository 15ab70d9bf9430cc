"""The ``--html`` page as a browser shows it: headless Chromium renders a page kalimat-predict wrote.

Chromium is not a dependency of the project; without it these tests are skipped (Debian:
``apt-get install chromium``).
"""

import json
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from inference_fixtures import model_dir  # noqa: F401 (model_dir is a fixture)
from matplotlib import image

from train.inference.predict import main
from train.inference.writers import COLOURS

BROWSER = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium binary found (Debian: apt-get install chromium)")
WIDTH, HEIGHT = 900, 700
SENTENCES = [
    "“Kami akan terus membantu warga,” kata Gubernur.",
    "Pemerintah harus segera memperbaiki jalan itu.",
    "Harga beras naik 10 persen bulan ini.",
    "Gubernur itu menjabat sejak pemilihan lalu.",
]


@pytest.fixture(scope="module")
def page(model_dir, tmp_path_factory):  # noqa: F811
    """A page and the records it shows, written by kalimat-predict."""
    folder = tmp_path_factory.mktemp("page")
    source = folder / "articles.jsonl"
    source.write_text(json.dumps({"id": "berita <1>", "sentences": SENTENCES}) + "\n", encoding="utf-8")
    main(["--model", str(model_dir), "--output", str(folder / "out.jsonl"), "--html", str(folder / "page.html"),
          str(source)])
    records = [json.loads(line) for line in (folder / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    return folder / "page.html", records


def chromium(folder, *options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BROWSER, "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={folder / 'profile'}",
         "--hide-scrollbars", "--force-device-scale-factor=1", *options],
        capture_output=True, text=True, timeout=120, check=True,
    )


class Tags(HTMLParser):
    """The text of every ``span.tag`` inside a sentence (``p.s``), with the sentence's classes."""

    def __init__(self):
        super().__init__()
        self.sentences, self._classes, self._in_tag = [], None, False

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "p" and "s" in classes:
            self._classes = classes
        elif tag == "span" and "tag" in classes and self._classes:
            self._in_tag = True
            self.sentences.append([self._classes, ""])

    def handle_endtag(self, tag):
        if tag == "span":
            self._in_tag = False
        elif tag == "p":
            self._classes = None

    def handle_data(self, data):
        if self._in_tag:
            self.sentences[-1][1] += data


def test_the_rendered_page_shows_every_sentence_with_its_label_tag(page, tmp_path):
    path, records = page
    dom = chromium(tmp_path, "--dump-dom", path.as_uri()).stdout
    tags = Tags()
    tags.feed(dom)
    assert tags.sentences == [[["s", r["label"]], f"[{r['label']} {r['score']:.2f}]"] for r in records]
    assert "berita &lt;1&gt;" in dom and all(r["text"].split()[1] in dom for r in records)


def test_the_screenshot_is_the_page_in_its_label_colours(page, tmp_path):
    path, records = page
    shot = tmp_path / "page.png"
    chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", path.as_uri())
    pixels = (image.imread(shot)[:, :, :3] * 255).round().astype(int)
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    assert (pixels != 255).any(axis=2).mean() > 0.05  # not a blank page
    colours = {tuple(int(light[i:i + 2], 16) for i in (1, 3, 5)) for light, _ in COLOURS.values()}
    area = {colour: int((pixels == np.array(colour)).all(axis=2).sum()) for colour in colours}
    # The stylesheet applies: every label's background is painted (in the legend at least), and the
    # labels the sentences carry cover more of the page than the legend entries alone.
    assert min(area.values()) > 500
    labeled = {tuple(int(COLOURS[r["label"]][0][i:i + 2], 16) for i in (1, 3, 5)) for r in records}
    assert min(area[c] for c in labeled) > max((area[c] for c in colours - labeled), default=0)
