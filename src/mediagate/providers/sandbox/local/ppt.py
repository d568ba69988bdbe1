"""Presentations of the ``local`` family: an outline (docmee's markdown: ``#`` the subject,
``##`` chapters, ``###`` pages, ``####``/``-`` their points) rendered to a real .pptx with
python-pptx on one of a few built-in templates, and a .pptx read back as JSON."""

from __future__ import annotations

import io
import json
from typing import Any

import msgspec

from mediagate.core.errors import InputError


class Page(msgspec.Struct):
    title: str
    points: list[str] = []


class Chapter(msgspec.Struct):
    title: str
    pages: list[Page] = []


class Deck(msgspec.Struct):
    subject: str
    chapters: list[Chapter] = []
    template: str = "classic"

    @property
    def titles(self) -> list[str]:
        """Every slide's title, in order."""
        out = [self.subject]
        for chapter in self.chapters:
            out.append(chapter.title)
            out.extend(page.title for page in chapter.pages)
        return out


class Template(msgspec.Struct, frozen=True):
    id: str
    name: str
    background: tuple[int, int, int]
    title: tuple[int, int, int]
    text: tuple[int, int, int]
    accent: tuple[int, int, int]


TEMPLATES = {
    t.id: t
    for t in (
        Template("classic", "Classic", (255, 255, 255), (31, 56, 100), (40, 40, 40), (0, 112, 192)),
        Template("midnight", "Midnight", (18, 24, 38), (240, 200, 90), (225, 228, 235),
                 (90, 160, 255)),
        Template("sunrise", "Sunrise", (255, 246, 235), (200, 70, 40), (70, 50, 40),
                 (240, 140, 60)),
        Template("forest", "Forest", (236, 244, 236), (30, 90, 50), (40, 50, 40), (80, 150, 90)),
    )
}  # fmt: skip


def parse_outline(markdown: str, template: str = "classic") -> Deck:
    deck = Deck(subject="", template=template)
    for raw in markdown.splitlines():
        line = raw.strip()
        if not line:
            continue
        level = len(line) - len(line.lstrip("#"))
        text = line.lstrip("#").strip().lstrip("-*").strip() if level else line.lstrip("-*").strip()
        if not text:
            continue
        if level == 1 and not deck.subject:
            deck.subject = text
        elif level in (1, 2):
            deck.chapters.append(Chapter(text))
        elif level == 3:
            if not deck.chapters:
                deck.chapters.append(Chapter(deck.subject or text))
            deck.chapters[-1].pages.append(Page(text))
        elif deck.chapters and deck.chapters[-1].pages:
            deck.chapters[-1].pages[-1].points.append(text)
        elif deck.chapters:  # points under a chapter with no page: a page of their own
            deck.chapters[-1].pages.append(Page(deck.chapters[-1].title, [text]))
    if not deck.subject or not deck.chapters:
        raise InputError("options.outline: needs a '# subject' and at least one '## chapter'")
    return deck


def outline_markdown(deck: Deck) -> str:
    lines = [f"# {deck.subject}"]
    for chapter in deck.chapters:
        lines.append(f"## {chapter.title}")
        for page in chapter.pages:
            lines.append(f"### {page.title}")
            lines.extend(f"#### {point}" for point in page.points)
    return "\n".join(lines)


def _paint(slide: Any, template: Template) -> None:
    from pptx.dml.color import RGBColor

    fill = slide.background.fill
    fill.solid()
    fill.fore_color.rgb = RGBColor(*template.background)  # type: ignore[no-untyped-call]
    for shape in slide.placeholders:
        for para in shape.text_frame.paragraphs:
            for run in para.runs:
                colour = template.title if shape.placeholder_format.idx == 0 else template.text
                run.font.color.rgb = RGBColor(*colour)  # type: ignore[no-untyped-call]


def render(deck: Deck) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    template = TEMPLATES.get(deck.template)
    if template is None:
        raise InputError(f"options.template: {deck.template!r} is not one of {sorted(TEMPLATES)}")
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    prs.core_properties.title = deck.subject
    prs.core_properties.keywords = f"mediagate-template:{template.id}"
    title_layout, section_layout, body_layout = (prs.slide_layouts[i] for i in (0, 2, 1))
    slide = prs.slides.add_slide(title_layout)
    slide.shapes.title.text = deck.subject
    slide.placeholders[1].text = "mediagate"
    _paint(slide, template)
    for chapter in deck.chapters:
        slide = prs.slides.add_slide(section_layout)
        slide.shapes.title.text = chapter.title
        _paint(slide, template)
        for page in chapter.pages:
            slide = prs.slides.add_slide(body_layout)
            slide.shapes.title.text = page.title
            body = slide.placeholders[1].text_frame
            body.text = page.points[0] if page.points else ""
            for point in page.points[1:]:
                body.add_paragraph().text = point
            _paint(slide, template)
    buf = io.BytesIO()
    prs.save(buf)
    return buf.getvalue()


def read(data: bytes) -> Deck:
    """A .pptx back as a deck: a title slide, section headers as chapters, the rest as pages
    (any .pptx: slides without a title become untitled pages)."""
    from pptx import Presentation

    try:
        prs = Presentation(io.BytesIO(data))
    except Exception as exc:  # python-pptx raises zipfile, KeyError, lxml errors alike
        raise InputError(f"file: not a .pptx ({type(exc).__name__})") from None
    keywords = prs.core_properties.keywords or ""
    template = (
        keywords.split(":", 1)[1] if keywords.startswith("mediagate-template:") else "classic"
    )
    deck = Deck(subject=prs.core_properties.title or "", template=template)
    for index, slide in enumerate(prs.slides):
        title = slide.shapes.title.text if slide.shapes.title is not None else ""
        texts = [
            p.text for s in slide.shapes if s.has_text_frame and s != slide.shapes.title
            for p in s.text_frame.paragraphs if p.text
        ]  # fmt: skip
        if index == 0:
            deck.subject = deck.subject or title
        elif slide.slide_layout.name == "Section Header" or not deck.chapters:
            deck.chapters.append(Chapter(title))
        else:
            deck.chapters[-1].pages.append(Page(title, texts))
    return deck


def deck_json(deck: Deck) -> bytes:
    return msgspec.json.encode(deck)


def deck_from_json(raw: str | bytes | dict[str, Any]) -> Deck:
    try:
        data = json.dumps(raw) if isinstance(raw, dict) else raw
        return msgspec.json.decode(data, type=Deck)
    except msgspec.ValidationError as exc:
        raise InputError(f"pptxProperty: {exc}") from None
    except msgspec.DecodeError:
        raise InputError("pptxProperty: is not JSON") from None


def insert_page(deck: Deck, slide_number: int, page: Page) -> Deck:
    """The deck with ``page`` as slide ``slide_number`` (counted from 0, as 韦尼克 counts;
    past the end: last), in the chapter of the slide before it (a page cannot come before
    the title slide, so 0 means 1)."""
    at, count = max(1, slide_number), 1
    for chapter in deck.chapters:
        count += 1  # the chapter's own slide
        for i in range(len(chapter.pages) + 1):
            if count >= at:
                chapter.pages.insert(i, page)
                return deck
            if i < len(chapter.pages):
                count += 1
    deck.chapters[-1].pages.append(page)
    return deck
